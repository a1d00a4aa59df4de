"""Ctrl-C while run_command blocks in the main thread ends the process group, then re-raises."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap



def _gone(pid: int, within: float = 10.0) -> bool:
    """True once pid has ended: SIGKILL is delivered at once but the exit itself can lag on
    a busy machine, so wait for the kernel's exit notification (pidfd), bounded."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], within)[0])  # readable = exited (or zombie)
    finally:
        os.close(fd)

SCRIPT = textwrap.dedent(
    """
    import sys
    from tutorial.engine.runner import CommandSpec, RunTarget, run_command

    def show(stream, line):
        print(line, flush=True)

    spec = CommandSpec(["sh", "-c", "sleep 30 & echo $$ $!; sleep 30"], timeout=60)
    try:
        run_command(spec, RunTarget(), on_output=show)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise
    """
)


def test_keyboard_interrupt_kills_group_and_reraises():
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2, proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "interrupted" in out
    assert "KeyboardInterrupt" in err
    assert proc.returncode != 0
    assert all(_gone(pid) for pid in pids)
