"""Where the tutorial's data lives: bundled lessons/assets, the state directory."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    """`tutorial/_data/NAME` in an installed wheel, `<repo>/NAME` in a source checkout."""
    bundled = _PKG / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PKG.parent / name


def lessons_dir() -> Path:
    return _data_dir("lessons")


def assets_dir() -> Path:
    return _data_dir("assets")


def state_dir() -> Path:
    """The user state directory; GATEWAY_TUTORIAL_STATE_DIR overrides it (tests, labs)."""
    override = os.environ.get("GATEWAY_TUTORIAL_STATE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("gateway-tutorial", appauthor=False))
