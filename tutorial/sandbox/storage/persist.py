"""On-disk state of a sandbox store: an append-only write log, throttled snapshots, a forgiving loader.

Durable acknowledgement: every change is appended to `<state>.log` by a store subscriber, which
the store calls before the write returns to the API server, so a write is answered only once it
is in the log. Policy (SANDBOX_FSYNC, measured by bench/bench_durable.py): "write" (default) hands
each record to the kernel with one write(2) — it survives SIGKILL of the process — and fsyncs the
log at every snapshot (at most every MIN_INTERVAL s), so an OS crash loses at most that window;
"always" fsyncs every record before the answer (survives power loss, costs one disk flush per write).

Snapshots go to a temporary file that is fsynced and then renamed over the state file, so a killed
process leaves either the old or the new snapshot, never half of one; after each snapshot the log
keeps only what came later. A restart loads the snapshot, replays the log (a torn last line from
a kill is ignored) and starts resourceVersions RV_GAP above the highest one seen, so a version
handed out before a kill is never handed out again. A file that cannot be read is moved aside
with a message and a fresh store starts.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import threading
from pathlib import Path

from tutorial.sandbox.storage.store import Store

log = logging.getLogger(__name__)
FORMAT = "gateway-tutorial-sandbox/v1"
MIN_INTERVAL = 0.5
RV_GAP = 10_000  # more than the writes that can be committed but not yet logged when a kill lands
FSYNC_POLICY = os.environ.get("SANDBOX_FSYNC", "write")  # "write" or "always" (see the docstring)


def _private(path: Path, flags: int) -> int:
    return os.open(path, flags | os.O_CREAT, 0o600)


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path so that readers see the old or the new content, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    # 0600: the state holds the cluster's Secrets (and the kubeconfig beside it, the token)
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save_store(store: Store, path: Path) -> None:
    payload = {"format": FORMAT, "snapshot": store.snapshot()}
    write_atomic(Path(path), json.dumps(payload, separators=(",", ":")).encode())


def log_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".log")


def read_log(path: Path) -> list[dict]:
    """The records of a write log in order; a torn or unreadable line ends it (a kill mid-append)."""
    records = []
    try:
        with open(path, "rb") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                    int(record["rv"]), record["t"], record["g"], record["r"], record["o"]["metadata"]
                except (ValueError, KeyError, TypeError):
                    break
                records.append(record)
    except FileNotFoundError:
        pass
    return records


def replay(snapshot: dict, records: list[dict], unclean: bool = True) -> dict:
    """The snapshot with the log's later changes applied; after an unclean stop (the log file is
    still there) resourceVersion starts RV_GAP above all seen."""
    base = int(snapshot.get("resourceVersion", 0))
    objects = {}
    for entry in snapshot.get("objects", []):
        meta = entry["object"].get("metadata") or {}
        objects[(entry["group"], entry["resource"], meta.get("namespace"), meta.get("name"))] = entry
    top = base
    for rec in records:
        rv = int(rec["rv"])
        top = max(top, rv)
        if rv <= base:
            continue  # already in the snapshot
        meta = rec["o"]["metadata"]
        key = (rec["g"], rec["r"], meta.get("namespace"), meta.get("name"))
        if rec["t"] == "DELETED":
            objects.pop(key, None)
        else:
            objects[key] = {"group": rec["g"], "resource": rec["r"], "object": rec["o"]}
    for entry in objects.values():
        top = max(top, int(entry["object"]["metadata"].get("resourceVersion", 0) or 0))
    gap = RV_GAP if unclean else 0
    return {"resourceVersion": top + gap, "objects": list(objects.values())}


class WriteLog:
    """The append-only log: append() before a write is answered, compact() after a snapshot."""

    def __init__(self, path: Path, policy: str = FSYNC_POLICY):
        self.path, self.policy = Path(path), policy
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.appended = 0

    def open(self) -> "WriteLog":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = _private(self.path, os.O_WRONLY | os.O_APPEND)
        return self

    def append(self, type_: str, gr, obj: dict) -> None:
        line = json.dumps({"rv": int(obj["metadata"]["resourceVersion"]), "t": type_, "g": gr[0], "r": gr[1],
                           "o": obj}, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._fd is None:
                return
            os.write(self._fd, line)  # one write(2) on an O_APPEND fd: in the kernel, safe from SIGKILL
            if self.policy == "always":
                os.fsync(self._fd)
            self.appended += 1

    def sync(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)

    def compact(self, upto: int) -> None:
        """Keep only records after resourceVersion `upto` (a snapshot holds the rest)."""
        with self._lock:
            if self._fd is None:
                return
            keep = [r for r in read_log(self.path) if int(r["rv"]) > upto]
            data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in keep)
            write_atomic(self.path, data)
            os.close(self._fd)
            self._fd = _private(self.path, os.O_WRONLY | os.O_APPEND)

    def close(self, *, remove: bool = False) -> None:
        """Close the log; remove=True after a final snapshot marks a clean stop (no rv gap next time)."""
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None
            if remove and not read_log(self.path):
                self.path.unlink(missing_ok=True)


def load_store(path: Path) -> tuple[Store, str | None]:
    """A store restored from path (fresh when absent); message says what happened to a bad file."""
    path = Path(path)
    store = Store()
    if not path.exists():
        records = read_log(log_path(path))  # killed before its first snapshot: the log has it all
        if records:
            store.restore(replay({"resourceVersion": 0, "objects": []}, records))
        return store, None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"not a sandbox state file (format {payload.get('format') if isinstance(payload, dict) else '?'!r})")
        store.restore(replay(payload["snapshot"], read_log(log_path(path)), log_path(path).exists()))
        return store, None
    except (OSError, ValueError, KeyError, TypeError) as e:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        try:
            os.replace(path, aside)
        except OSError as move_error:
            message = (f"The sandbox state in {path} could not be read ({e}) nor moved aside ({move_error}); "
                       "a fresh, empty sandbox was started. Remove the file by hand to silence this message.")
        else:
            message = (f"The sandbox state in {path} could not be read ({e}); it was moved to {aside} "
                       "and a fresh, empty sandbox was started.")
        log.warning(message)
        return Store(), message


class Persister:
    """Saves a store to path after changes, at most every MIN_INTERVAL seconds, and on stop()."""

    def __init__(self, store: Store, path: Path, min_interval: float = MIN_INTERVAL):
        self.store, self.path, self.min_interval = store, Path(path), min_interval
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._unsubscribe = None
        self._thread: threading.Thread | None = None
        self.writes = 0
        self.saved = threading.Event()  # set after every successful write (tests and status lines)
        self.log = WriteLog(log_path(self.path))

    def load(self) -> str | None:
        """Restore the file into self.store (before start); returns a message when it was unusable."""
        loaded, message = load_store(self.path)
        if message is None and (self.path.exists() or self.log.path.exists()):
            self.store.restore(loaded.snapshot())
        elif message is not None and self.log.path.exists():  # its snapshot is gone: so is its base
            os.replace(self.log.path, self.log.path.with_name(self.log.path.name + ".orphaned"))
        return message

    def start(self) -> "Persister":
        self.log.open()
        self.save_now()  # the replayed state becomes the snapshot; the log restarts after it

        def changed(type_, gr, obj) -> None:  # called before the write is answered
            self.log.append(type_, gr, obj)
            self._dirty.set()

        self._unsubscribe = self.store.subscribe(changed)
        self._thread = threading.Thread(target=self._loop, name=f"sandbox-persist-{self.path.name}", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(timeout=1.0):
                continue
            self.flush()
            self._stop.wait(self.min_interval)  # throttle: batch the changes of the next interval

    def flush(self) -> None:
        """Write the current state now (if anything changed since the last write)."""
        if not self._dirty.is_set() and self.path.exists():
            return
        self.save_now()

    def save_now(self) -> None:
        """Snapshot the store, then drop what the snapshot holds from the log."""
        with self._write_lock:
            self._dirty.clear()
            try:
                snapshot = self.store.snapshot()
                payload = {"format": FORMAT, "snapshot": snapshot}
                write_atomic(self.path, json.dumps(payload, separators=(",", ":")).encode())
                self.log.compact(int(snapshot["resourceVersion"]))
                self.writes += 1
                self.saved.set()
            except OSError as e:
                self._dirty.set()  # retry at the next turn
                log.warning("could not save the sandbox state to %s: %s", self.path, e)

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None
        self._stop.set()
        self._dirty.set()  # wake the loop now instead of after its 1 s idle wait; it writes once more
        if self._thread:
            self._thread.join(5)
        self.flush()
        self.log.close(remove=not self._dirty.is_set())


__all__ = ["Persister", "WriteLog", "load_store", "read_log", "replay", "save_store", "write_atomic"]
