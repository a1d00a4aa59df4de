"""Time to the first interactive screen: the tutorial's TUI against a bare Textual app.

Both run in fresh processes, alternately, headless at 100x30; the clock starts just before the
process is spawned and stops when the child reports its first paint. Target ratio <= 1.2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import Figure

CHILD = Path(__file__).resolve().parent / "_first_screen_child.py"


def _once(mode: str, extra: list[str], env: dict) -> float:
    env = {**env, "BENCH_T0": repr(time.time())}
    out = subprocess.run([sys.executable, str(CHILD), mode, *extra], env=env,
                         capture_output=True, text=True, timeout=120)
    for line in out.stdout.splitlines():
        if line.startswith("FIRST_PAINT"):
            return float(line.split()[1])
    raise RuntimeError(f"{mode} did not paint:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def measure(runs: int) -> list[Figure]:
    state = tempfile.mkdtemp(prefix="bench-first-screen-")
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": state, "TERM": "xterm-256color"}
    # Measure what a learner sees on the second start: byte code cached, as Python normally does
    # (this machine sets PYTHONDONTWRITEBYTECODE, which would recompile our modules every time).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    bare, ours = [], []
    _once("bare", [], env)  # warm the OS file cache for both
    _once("tutorial", ["--sandbox"], env)
    for _ in range(runs):
        bare.append(_once("bare", [], env))
        ours.append(_once("tutorial", ["--sandbox"], env))
    return [Figure("first screen (tutorial --sandbox)", ours, "bare Textual app", bare,
                   target_ratio=1.2)]
