"""Helpers for lesson tests: fixture paths and single-occurrence edits of lesson files."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VALID = FIXTURES / "valid"
ASSETS = FIXTURES / "assets"


def edit(path: Path, old: str, new: str) -> None:
    """Replace exactly one occurrence of old in a lesson file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, needle: str, nth: int = 0) -> int:
    """1-based line of the nth line containing needle."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [n for n, line in enumerate(lines, 1) if needle in line]
    assert len(found) > nth, f"{needle!r} not in {path}"
    return found[nth]
