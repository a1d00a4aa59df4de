"""Ctrl-C while `check` waits on the cluster ends it at once, with progress intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox_engine import require_kubectl

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_during_a_waiting_check_exits_130_quickly(tmp_path):
    require_kubectl()
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "--sandbox", "check", "emojivoto/deploy",
                             "--timeout", "120"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / "state" / "progress").exists():
            time.sleep(0.1)  # the progress store is opened just before the checks start waiting
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=15)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert "Interrupted" in out
