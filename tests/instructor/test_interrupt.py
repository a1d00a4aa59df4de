"""Ctrl-C during `prepare` stops every cluster's running command and leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from fleetlab import REPO, in_process

LESSON = """\
format_version: 1
id: hang
title: A step that takes long
order: 1
summary: Runs a command that waits, so the test can interrupt it.
steps:
  - id: wait
    title: Wait
    text: Waits.
    commands:
      - run: [sh, -c, 'echo $$ > "$0"; exec sleep 120', "{fifo_dir}/fifo-{context}"]
        timeout: 300
    checks:
      - kind: namespace_exists
        name: never-there
variables:
  fifo_dir: "FIFO_DIR"
"""


def _unblock_when_done(proc, tmp_path, contexts) -> None:
    """If prepare ends early, open the FIFOs for writing so the test's reads see EOF, not a hang."""
    proc.wait()
    for context in contexts:
        try:
            os.close(os.open(tmp_path / f"fifo-{context}", os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # no reader (any more): nothing to unblock
            pass


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see that no process is left")
def test_ctrl_c_ends_every_running_command(tmp_path):
    lab = in_process(tmp_path, 2)
    try:
        lessons = tmp_path / "lessons"
        lessons.mkdir()
        (lessons / "10-hang.yaml").write_text(LESSON.replace("FIFO_DIR", str(tmp_path)))
        for context in lab.contexts:
            os.mkfifo(tmp_path / f"fifo-{context}")
        env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200"}
        proc = subprocess.Popen([sys.executable, "-m", "tutorial", "prepare", "hang/wait", "--lessons", str(lessons),
                                 "--kubeconfig", str(lab.kubeconfig), "--all-contexts", "--yes"],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=_unblock_when_done, args=(proc, tmp_path, lab.contexts), daemon=True).start()
        pids = []
        for context in lab.contexts:  # each read blocks until that cluster's command has started
            with open(tmp_path / f"fifo-{context}") as fifo:
                text = fifo.read().strip()
            assert text, f"prepare ended before {context}'s command started: {proc.communicate()[0]}"
            pids.append(int(text))
        assert all(alive(pid) for pid in pids)
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
    finally:
        lab.stop()
    assert proc.returncode == 130, out
    assert "Interrupted" in out
    assert not any(alive(pid) for pid in pids), out
