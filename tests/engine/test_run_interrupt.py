"""Ctrl-C during `gateway-tutorial run` ends the running command's process group and leaves the
progress file valid: steps done before stay done, the interrupted one is not marked done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sandbox_engine import require_kubectl

REPO = Path(__file__).resolve().parents[2]
LESSON = """\
format_version: 1
id: slow
title: A slow lesson
order: 1
summary: One quick step, then one that waits.
steps:
  - id: quick
    title: Quick
    text: Creates a namespace.
    commands:
      - run: [kubectl, create, namespace, quick]
    checks:
      - kind: namespace_exists
        name: quick
  - id: wait
    title: Wait
    text: Waits a long time.
    commands:
      - run: [sh, -c, 'echo $$ > "$0"; exec sleep 60', "FIFO"]
    checks:
      - kind: namespace_exists
        name: never-there
"""


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def test_ctrl_c_during_run_ends_the_command_and_keeps_progress(tmp_path):
    require_kubectl()
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (lessons / "slow.yaml").write_text(LESSON.replace("FIFO", str(fifo)))
    state = tmp_path / "state"
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(state)}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "--sandbox", "--lessons", str(lessons),
                             "run", "all", "--yes"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        with open(fifo) as f:  # blocks until the second step's command runs
            pid = int(f.read().strip())
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert _gone(pid), "the interrupted command's process is still running"
    [progress_file] = (state / "progress").glob("*.json")
    steps = json.loads(progress_file.read_text())["steps"]
    assert steps["slow/quick"]["state"] == "done"
    assert steps.get("slow/wait", {}).get("state", "todo") != "done"
