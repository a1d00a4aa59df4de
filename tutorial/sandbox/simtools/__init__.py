"""Simulated `helm` and `istioctl` that act on sandbox clusters through their kubeconfig.

`bin_dir()` returns a directory holding executable `helm` and `istioctl` wrappers; put it first
on PATH (as `sandbox serve` prints) to type the blog's commands against the sandbox.
"""

from __future__ import annotations

import os
import sys

# No module-level pathlib: every run of a simulated tool imports this package first (see wire.py).

TOOLS = ("helm", "istioctl")


def _script(tool: str) -> str:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]  # the directory holding the `tutorial` package
    return ("#!/bin/sh\n"
            f"# SIMULATED {tool} for the gateway-tutorial sandbox (generated; safe to delete).\n"
            f'PYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" '
            f'-m tutorial.sandbox.simtools {tool} "$@"\n')


def bin_dir(path: Path | None = None) -> Path:
    """The directory with the wrapper scripts, (re)written when missing or stale."""
    import stat

    if path is None:
        from tutorial.paths import state_dir

        path = state_dir() / "sandbox" / "bin"
    path.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        target, text = path / tool, _script(tool)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            tmp = path / f".{tool}.tmp{os.getpid()}"
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            os.replace(tmp, target)
    return path


def path_with_tools(current: str | None = None) -> str:
    """PATH with the simulated tools first (for subprocesses run against the sandbox)."""
    current = os.environ.get("PATH", "") if current is None else current
    return os.pathsep.join([str(bin_dir()), current]) if current else str(bin_dir())
