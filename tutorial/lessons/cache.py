"""A cache of loaded lessons, keyed by the lesson files' content, around the loader.

Parsing the lesson YAML with line numbers costs ~40 ms (pure-Python YAML) plus ~45 ms of imports
on every start of every command; reading the cache costs ~2 ms and imports neither PyYAML nor the
loader. The key is the content of every lesson file (and its path, which errors and Lesson.file
name), the loader's own source files (size and mtime, so an upgrade or an edit of the format
invalidates it) and the size and mtime of every asset file a manifest names (the loader checks
they exist). Anything else — a miss, a corrupt or unreadable cache, a broken lesson file — goes
through the loader, so errors keep their FILE:LINE form; only a clean load is written.

The file holds two pickles: first the key, the asset stats and the lessons' outline (plain tuples:
what a lesson list shows before anything is chosen), then the LessonSet. cached_outline reads only
the first, so the TUI lists the lessons without importing the models (their ~9 dataclasses cost
~10 ms of Python compiling) or unpickling every step; the LessonSet is read after the first paint.

Not imported by `tutorial.lessons` itself: `from tutorial.lessons.cache import load_lessons_cached`.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

FORMAT = b"gateway-tutorial lessons cache 2"
SUFFIXES = (".yaml", ".yml")
_CODE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """GATEWAY_TUTORIAL_CACHE_DIR, else `<state dir>/cache` when the state dir is overridden (tests,
    labs), else the user's cache directory."""
    override = os.environ.get("GATEWAY_TUTORIAL_CACHE_DIR")
    if override:
        return Path(override)
    if os.environ.get("GATEWAY_TUTORIAL_STATE_DIR"):
        return Path(os.environ["GATEWAY_TUTORIAL_STATE_DIR"]) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("gateway-tutorial", appauthor=False))


def load_lessons_cached(directory: Path, assets_dir: Path, *, cache: Path | None = None):
    """The LessonSet of `directory`, from the cache when nothing it was built from changed.

    Raises LessonErrors (from the loader, FILE:LINE for every problem) like load_lessons.
    """
    found = cached_lessons(directory, assets_dir, cache=cache)
    if found is not None:
        return found
    from tutorial.lessons.loader import load_lessons

    lessons = load_lessons(Path(directory), Path(assets_dir))
    key = _key(Path(directory), Path(assets_dir))
    if key is not None:
        _store(_cache_file(cache, directory, assets_dir), key, lessons)
    return lessons


def cached_lessons(directory: Path, assets_dir: Path, *, cache: Path | None = None):
    """The cached LessonSet when it is still valid, else None (never parses, never raises)."""
    return _read(directory, assets_dir, cache, whole=True)


def cached_outline(directory: Path, assets_dir: Path, *, cache: Path | None = None) -> tuple | None:
    """outline(LessonSet) from the cache when it is still valid, else None (never parses, never
    raises, imports no model: plain tuples)."""
    return _read(directory, assets_dir, cache, whole=False)


def outline(lessons) -> tuple:
    """What a lesson list shows before a variant is chosen, as plain tuples: for each lesson in order,
    (id, order, title, summary, its default variant's title or None, ((step target, step title), ...))
    with the steps of its default variant."""
    steps: dict[str, list] = {}
    for lesson, step in lessons.resolve_target("all"):
        steps.setdefault(lesson.id, []).append((step.target, step.title))
    return tuple((l.id, l.order, l.title, l.summary, l.default_variant.title if l.variants else None,
                  tuple(steps.get(l.id, ()))) for l in lessons.lessons)


def _read(directory: Path, assets_dir: Path, cache: Path | None, *, whole: bool):
    key = _key(Path(directory), Path(assets_dir))
    if key is None:
        return None
    try:
        with open(_cache_file(cache, directory, assets_dir), "rb") as f:
            stored_key, assets, preview = pickle.load(f)
            if stored_key != key or assets != _asset_stats(assets):
                return None
            return pickle.load(f) if whole else preview
    except Exception:  # missing, corrupt, or written by other code: parse instead
        return None


def _key(directory: Path, assets_dir: Path) -> bytes | None:
    """Digest of what a load depends on; None when the directory cannot be listed."""
    digest = hashlib.blake2b(FORMAT, digest_size=20)
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())
        for path in files:
            digest.update(f"\0{path}\0".encode())
            digest.update(path.read_bytes())
        for path in sorted(_CODE_DIR.glob("*.py")):
            stat = path.stat()
            digest.update(f"\0{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    except OSError:
        return None
    digest.update(f"\0{assets_dir.resolve()}".encode())
    return digest.digest() if files else None


def _asset_stats(assets: dict[str, tuple[int, int] | None]) -> dict[str, tuple[int, int] | None]:
    """(size, mtime_ns) now, for the same asset paths; None for one that is gone."""
    out = {}
    for name in assets:
        try:
            stat = os.stat(name)
            out[name] = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            out[name] = None
    return out


def _manifest_assets(lessons) -> dict[str, None]:
    return {str(m.path): None for lesson in lessons.lessons for step in lesson.steps
            for m in step.manifests if m.path is not None}


def _cache_file(cache: Path | None, directory: Path, assets_dir: Path) -> Path:
    """One file per lessons directory (a new key overwrites it), so the cache never grows."""
    where = hashlib.blake2b(f"{Path(directory).resolve()}\0{Path(assets_dir).resolve()}".encode(),
                            digest_size=8).hexdigest()
    return (cache or cache_dir()) / f"lessons-{where}.pickle"


def _store(path: Path, key: bytes, lessons) -> None:
    """Write atomically (readers see the old file or the new one); a failure only costs speed."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps((key, _asset_stats(_manifest_assets(lessons)), outline(lessons)),
                               protocol=pickle.HIGHEST_PROTOCOL) + pickle.dumps(lessons, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".lessons-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError):
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
