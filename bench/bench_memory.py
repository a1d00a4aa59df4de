"""Peak memory (RSS) of the tutorial with the embedded sandbox, after walking every step of the
tutorial in one process, against a bare Textual app in the same run. Target: <= 150 MiB."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import Figure

CHILD = Path(__file__).resolve().parent / "_memory_child.py"


def _peak(mode: str, extra: list[str]) -> float:
    state = tempfile.mkdtemp(prefix="bench-memory-")
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": state, "BENCH_T0": repr(time.time()),
           "TERM": "xterm-256color"}
    out = subprocess.run([sys.executable, str(CHILD), mode, *extra], env=env, capture_output=True, text=True,
                         timeout=600)
    if "FAILED" in out.stdout:
        raise RuntimeError(f"the walk failed:\n{out.stdout[-2000:]}")
    for line in out.stdout.splitlines():
        if line.startswith("PEAK_RSS_KIB"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{mode} reported no peak:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def measure(runs: int) -> list[Figure]:
    n = max(1, runs // 3)
    ours = [_peak("tutorial", ["--sandbox"]) for _ in range(n)]
    bare = [_peak("bare", []) for _ in range(n)]
    return [Figure("peak RSS, tutorial + embedded sandbox after every step", ours, "bare Textual app", bare,
                   unit="MiB", target_value=150.0)]
