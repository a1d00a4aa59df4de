"""On-disk state of a sandbox store: throttled atomic snapshots and a forgiving loader.

Writes go to a temporary file that is fsynced and then renamed over the state file, so a killed
process leaves either the old or the new snapshot, never half of one. A file that still cannot
be read is moved aside with a message and a fresh store starts.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import threading
from pathlib import Path

from tutorial.sandbox.store import Store

log = logging.getLogger(__name__)
FORMAT = "gateway-tutorial-sandbox/v1"
MIN_INTERVAL = 0.5


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


def load_store(path: Path) -> tuple[Store, str | None]:
    """A store restored from path (fresh when absent); message says what happened to a bad file."""
    path = Path(path)
    store = Store()
    if not path.exists():
        return store, None
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"not a sandbox state file (format {payload.get('format') if isinstance(payload, dict) else '?'!r})")
        store.restore(payload["snapshot"])
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

    def load(self) -> str | None:
        """Restore the file into self.store (before start); returns a message when it was unusable."""
        loaded, message = load_store(self.path)
        if message is None and self.path.exists():
            self.store.restore(loaded.snapshot())
        return message

    def start(self) -> "Persister":
        self._unsubscribe = self.store.subscribe(lambda *_: self._dirty.set())
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
        with self._write_lock:
            if not self._dirty.is_set() and self.path.exists():
                return
            self._dirty.clear()
            try:
                save_store(self.store, self.path)
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


__all__ = ["Persister", "load_store", "save_store", "write_atomic"]
