"""Per-cluster lesson progress in the state dir: atomic, versioned, safe across processes.

One JSON file per cluster (context name + server URL) under state_dir()/progress/. Every
operation re-reads the file under an exclusive fcntl lock and writes through with
temp file + fsync + os.replace, so the TUI and a CLI `run` in another terminal can share it.
The format is documented in docs/progress-format.md.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

FORMAT = 1
MAX_BYTES = 4 * 1024 * 1024  # a real progress file is a few KB; a bigger one is not ours
STATES = ("todo", "done", "skipped", "failed")
_TARGET = re.compile(r"^[^/\s]+/[^/\s]+$")


@dataclass(frozen=True)
class StepRecord:
    """A step's recorded state; `updated` is ISO 8601 UTC, None for never-touched steps."""

    state: str = "todo"
    updated: str | None = None
    detail: str = ""
    verdict: dict | None = None   # the last check's verdict and explanation (docs/progress-format.md)


class CorruptProgress(ValueError):
    """The progress file exists but is not a readable format-1 document."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cluster_key(context: str, server: str) -> str:
    """A file-name-safe key: the sanitised context name plus a short hash of context+server."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", context).strip("._-")[:40] or "cluster"
    digest = hashlib.sha256(f"{context}\0{server}".encode()).hexdigest()[:10]
    return f"{safe}-{digest}"


def _check_target(target: str) -> None:
    if not isinstance(target, str) or not _TARGET.match(target):
        raise ValueError(f"progress target {target!r} must look like 'lesson/step'")


def _validate(data: Any) -> dict[str, Any]:
    """Return data if it is a format-1 document, else raise CorruptProgress saying why."""
    if not isinstance(data, dict):
        raise CorruptProgress("the top level is not a JSON object")
    if data.get("format") != FORMAT:
        raise CorruptProgress(f"format is {data.get('format')!r}, expected {FORMAT}")
    steps, variants = data.get("steps", {}), data.get("variants", {})
    if not isinstance(steps, dict) or not isinstance(variants, dict):
        raise CorruptProgress("'steps' and 'variants' must be objects")
    for target, rec in steps.items():
        if not _TARGET.match(target):
            raise CorruptProgress(f"step key {target!r} is not 'lesson/step'")
        if not isinstance(rec, dict) or rec.get("state") not in STATES:
            raise CorruptProgress(f"step {target!r} has no valid state")
        if not isinstance(rec.get("updated"), (str, type(None))) or not isinstance(rec.get("detail", ""), str):
            raise CorruptProgress(f"step {target!r}: 'updated' and 'detail' must be strings")
    if not all(isinstance(v, str) for v in variants.values()):
        raise CorruptProgress("every variant must be a string")
    if not isinstance(data.get("current"), (str, type(None))):
        raise CorruptProgress("'current' must be a string or null")
    data["steps"], data["variants"] = steps, variants
    data.setdefault("current", None)
    return data


class ProgressStore:
    """Progress of one cluster; every call reads and writes the file through."""

    def __init__(self, path: Path, context: str, server: str) -> None:
        self.path = Path(path)
        self.context, self.server = context, server
        self.warning: str | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            self._load()  # surfaces a corrupt file now, while the caller can show .warning
            self._sweep_temp_files()

    def _sweep_temp_files(self) -> None:
        """Delete temp files a killed writer left; under the lock no write is in flight."""
        mine = re.compile(re.escape(self.path.stem) + r"\.[a-z0-9_]+\.tmp")  # mkstemp's names
        for stale in self.path.parent.glob(f"{self.path.stem}.*.tmp"):
            if mine.fullmatch(stale.name):
                stale.unlink(missing_ok=True)

    @classmethod
    def for_cluster(cls, context: str, server: str,
                    state_dir: str | os.PathLike | None = None) -> "ProgressStore":
        """The store for a cluster, in state_dir (default tutorial.paths.state_dir())/progress."""
        if state_dir is None:
            from tutorial.paths import state_dir as default_state_dir

            state_dir = default_state_dir()
        path = Path(state_dir) / "progress" / f"{cluster_key(context, server)}.json"
        return cls(path, context, server)

    # -- file handling -------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on a sidecar file (the JSON itself is replaced, not edited)."""
        with open(self.path.with_suffix(".lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _fresh(self) -> dict[str, Any]:
        return {"format": FORMAT, "cluster": {"context": self.context, "server": self.server},
                "variants": {}, "steps": {}, "current": None}

    def _load(self) -> dict[str, Any]:
        """Read the file (caller holds the lock); move an unreadable one aside and start fresh.

        Unreadable is anything but a small UTF-8 JSON format-1 document: a directory, other
        bytes (UTF-16, binary), JSON nested past the parser's depth, the wrong shape."""
        try:
            data = _validate(json.loads(self._text()))
        except FileNotFoundError:
            return self._fresh()
        except CorruptProgress as exc:
            self._move_aside(str(exc))
            return self._fresh()
        except UnicodeDecodeError as exc:
            self._move_aside(f"it is not UTF-8 text (byte {exc.start}{_utf16_hint(exc.object)})")
            return self._fresh()
        except ValueError as exc:  # JSONDecodeError is a ValueError
            self._move_aside(f"it is not valid JSON ({exc})")
            return self._fresh()
        except RecursionError:
            self._move_aside("its JSON is nested too deeply")
            return self._fresh()
        return data

    def _text(self) -> str:
        """The file's text; CorruptProgress for a directory, an unreadable or oversized file."""
        if self.path.is_dir():
            raise CorruptProgress("it is a directory, not a file")
        try:
            with open(self.path, "rb") as fh:
                raw = fh.read(MAX_BYTES + 1)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise CorruptProgress(f"it cannot be read ({exc.strerror})") from None
        if len(raw) > MAX_BYTES:
            raise CorruptProgress(f"it is larger than {MAX_BYTES // (1024 * 1024)} MB")
        return raw.decode("utf-8")

    def discard(self, reason: str) -> None:
        """Move the file aside (with .warning naming both paths) and start fresh: it holds
        something these lessons cannot use, e.g. a remembered variant that no longer exists."""
        with self._locked():
            if self.path.exists():
                self._move_aside(reason)

    def variants(self) -> dict[str, str]:
        """Every remembered variant choice, lesson -> variant."""
        return dict(self._read()["variants"])

    def _move_aside(self, reason: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.stem}.corrupt-{stamp}.json")
        os.replace(self.path, aside)
        self.warning = (
            f"The progress file {self.path} could not be used ({reason}). It was moved to "
            f"{aside}; the steps it recorded were not kept, and your progress starts fresh. "
            "Your cluster is unchanged: `gateway-tutorial check all` (or c on a step) marks the "
            "steps already done again."
        )

    def _write(self, data: dict[str, Any]) -> None:
        """Atomically replace the file: temp file in the same dir, fsync, os.replace."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.stem + ".",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)

    @contextmanager
    def _update(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the lock; the caller edits the yielded dict."""
        with self._locked():
            data = self._load()
            yield data
            data["cluster"] = {"context": self.context, "server": self.server}
            self._write(data)

    def _read(self) -> dict[str, Any]:
        with self._locked():
            return self._load()

    # -- steps ---------------------------------------------------------------------

    def get(self, target: str) -> StepRecord:
        """The step's record; StepRecord() (todo, never updated) if nothing is recorded."""
        _check_target(target)
        rec = self._read()["steps"].get(target)
        return _record(rec) if rec else StepRecord()

    def set(self, target: str, state: str, detail: str = "", verdict: dict | None = None) -> StepRecord:
        """Record a step's state now (replacing its last verdict by `verdict`); returns what was stored."""
        _check_target(target)
        if state not in STATES:
            raise ValueError(f"progress state {state!r} must be one of {', '.join(STATES)}")
        record = StepRecord(state, _now(), str(detail), dict(verdict) if verdict else None)
        with self._update() as data:
            data["steps"][target] = {"state": record.state, "updated": record.updated,
                                     "detail": record.detail}
            if record.verdict:
                data["steps"][target]["verdict"] = record.verdict
        return record

    def set_verdict(self, target: str, **parts: Any) -> None:
        """Add to the step's last verdict (e.g. its explanation) without changing its state.
        A step never recorded gets nothing: a verdict belongs to a recorded check or run."""
        _check_target(target)
        with self._update() as data:
            rec = data["steps"].get(target)
            if rec is not None:
                verdict = rec.get("verdict") if isinstance(rec.get("verdict"), dict) else {}
                rec["verdict"] = {**verdict, **{k: v for k, v in parts.items() if v is not None}}

    def all(self) -> dict[str, StepRecord]:
        """Every recorded step, target -> record."""
        return {t: _record(r) for t, r in self._read()["steps"].items()}

    def done_targets(self) -> list[str]:
        """Targets recorded as done (for the engine to re-verify on resume)."""
        return [t for t, r in self.all().items() if r.state == "done"]

    # -- current step and variants -------------------------------------------------

    @property
    def current(self) -> str | None:
        """The step the learner was on, or None."""
        return self._read().get("current")

    def set_current(self, target: str | None) -> None:
        if target is not None:
            _check_target(target)
        with self._update() as data:
            data["current"] = target

    def variant(self, lesson: str) -> str | None:
        """The variant chosen for a lesson (e.g. 'helm' or 'istioctl'), or None."""
        return self._read()["variants"].get(lesson)

    def set_variant(self, lesson: str, variant: str | None) -> None:
        """Remember a lesson's variant; None forgets the choice."""
        with self._update() as data:
            if variant is None:
                data["variants"].pop(lesson, None)
            else:
                data["variants"][lesson] = str(variant)

    def reset(self, targets: Iterable[str] | None = None) -> None:
        """Forget progress: everything (None), or the given 'lesson/step' or whole 'lesson' ids."""
        with self._update() as data:
            if targets is None:
                data.update(self._fresh())
                return
            for target in targets:
                _forget(data, target)


def _forget(data: dict[str, Any], target: str) -> None:
    """Drop one step, or every step and the variant of a whole lesson."""
    if "/" in target:
        drop = {target} & data["steps"].keys()
    else:
        drop = {t for t in data["steps"] if t.split("/", 1)[0] == target}
        data["variants"].pop(target, None)
    for t in drop:
        del data["steps"][t]
    current = data.get("current")
    if current and (current == target or current.split("/", 1)[0] == target):
        data["current"] = None


def _record(rec: dict[str, Any]) -> StepRecord:
    verdict = rec.get("verdict")
    return StepRecord(rec["state"], rec.get("updated"), str(rec.get("detail") or ""),
                      verdict if isinstance(verdict, dict) else None)  # a malformed verdict is ignored


def _utf16_hint(raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[1:2] == b"\x00":
        return "; it looks like UTF-16"
    return ""


def check_variants(store: ProgressStore, lessons) -> None:
    """Start fresh (moving the file aside, with store.warning) when a remembered variant is not
    one the lesson has any more: resolving targets with it would fail on every step."""
    for lesson_id, variant in store.variants().items():
        try:
            lesson = lessons.lesson(lesson_id)
        except Exception:  # a lesson that is gone: its choice is simply unused
            continue
        known = [v.id for v in lesson.variants]
        if variant not in known:
            store.discard(f"it remembers variant {variant!r} for lesson {lesson_id}, which has "
                          f"{', '.join(known) or 'no variants'}")
            return
