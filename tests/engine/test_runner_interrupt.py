"""Ctrl-C while run_command blocks in the main thread ends the process group, then re-raises."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap



def _gone(pid: int) -> bool:
    """True when pid no longer runs (absent, or a zombie waiting for init to reap it)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True

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
