"""Fixtures for lesson tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lessonfix import VALID


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    """A writable copy of the valid fixture lessons."""
    target = tmp_path / "lessons"
    shutil.copytree(VALID, target)
    return target
