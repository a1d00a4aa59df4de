"""The unreadable progress files of issue 19, shared by the engine/CLI tests and the TUI tests."""

from __future__ import annotations

import json
from pathlib import Path


def _valid(**extra) -> bytes:
    doc = {"format": 1, "steps": {"before-you-start/cluster": {"state": "done"}}, "variants": {}, **extra}
    return json.dumps(doc).encode()


FORMS = {
    "invalid-utf8": b'{"format": 1, "steps": {"\xff\xfe": 1}}',
    "utf16": _valid().decode().encode("utf-16"),
    "deep-json": b"[" * 200_000 + b"]" * 200_000,
    "directory": None,
    "unknown-variant": _valid(variants={"istio": "nope"}),
    "bad-types": b'{"format": 1, "steps": {"a/b": {"state": "done", "detail": ["x"]}}}',
    "bad-key": b'{"format": 1, "steps": {"not a target": {"state": "done"}}}',
    "truncated": _valid()[:-7],
}


def plant(path: Path, form: str) -> None:
    """Put the unreadable form where the progress file belongs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if FORMS[form] is None:
        path.mkdir()
        (path / "inside").write_text("x")
    else:
        path.write_bytes(FORMS[form])


def aside(path: Path) -> list[Path]:
    """The files the store moved aside from path."""
    return list(path.parent.glob(f"{path.stem}.corrupt-*.json"))
