"""A TUI whose terminal goes away (window closed, ssh dropped) leaves as `q` would: the command it
ran stopped, progress kept, the embedded sandbox stopped. It once spun at half a core for hours.

The real app runs in a pseudo-terminal; closing the master side is the terminal going away. With
a controlling terminal the kernel sends SIGHUP; without one (a setsid'd or reparented process) the
app only sees its terminal hang up. A liveness bound (20 s), not a timing assertion."""

from __future__ import annotations

import fcntl
import json
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.ui.conftest import DEMO_LESSONS, needs_kubectl
from tutorial.engine.progress import ProgressStore
from tutorial.engine.target import SANDBOX_IDENTITY

REPO = Path(__file__).resolve().parents[2]
GONE_WITHIN = 20.0
_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>]")


class Terminal:
    """The app in a pty of 100x32; `screen` is everything it printed, escape sequences removed."""

    def __init__(self, argv: list[str], env: dict, controlling: bool) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))

        def session() -> None:  # in the child: its own session, the pty as its terminal or not
            os.setsid()
            if controlling:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                                     preexec_fn=session)
        os.close(slave)
        self.raw = b""

    @property
    def screen(self) -> str:
        return _ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def until(self, text: str, timeout: float = 180.0, *, keys: bytes = b"", every: float = 2.0) -> None:
        """Read until `text` is on screen, pressing `keys` every `every` seconds meanwhile."""
        deadline, pressed = time.monotonic() + timeout, 0.0
        while text not in self.screen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen ends:\n{self.screen[-1500:]}")
            if keys and time.monotonic() - pressed > every:
                os.write(self.master, keys)
                pressed = time.monotonic()
            if select.select([self.master], [], [], 0.2)[0]:
                self.raw += os.read(self.master, 1 << 16)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        os.close(self.master)

    def ended(self, after: str) -> int:
        """The app's exit code, once it has left (killed, and the test failed, if not within GONE_WITHIN)."""
        try:
            return self.proc.wait(timeout=GONE_WITHIN)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the TUI still ran {GONE_WITHIN:.0f} s {after}") from None


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _commands(pids: set[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return out


@pytest.mark.parametrize("controlling", [True, False], ids=["sighup", "hangup-only"])
def test_closing_the_terminal_ends_the_tui_its_command_and_sandbox_and_keeps_progress(tmp_path, controlling):
    needs_kubectl()
    state = tmp_path / "state"
    progress = ProgressStore.for_cluster("sandbox", SANDBOX_IDENTITY, state_dir=state)
    for target in ("demo/namespace", "demo/config"):  # so Enter opens demo/watch, a command that runs on
        progress.set(target, "skipped")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "GATEWAY_TUTORIAL_STATE_DIR": str(state), "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
           "PYTHONPATH": str(REPO)}
    term = Terminal([sys.executable, "-m", "tutorial", "--sandbox", "--lessons", str(DEMO_LESSONS)], env, controlling)
    try:
        term.until("stop it with", keys=b"\r")  # Enter opens the step once the sandbox answers
        term.press(b"r")
        term.until("kube-root-ca.crt")  # the watch runs and prints
        running = _descendants(term.proc.pid)
        assert any("--watch" in c for c in _commands(running)), _commands(running)
    finally:
        term.close()
    code = term.ended("after its terminal went away")
    left = time.monotonic() + GONE_WITHIN
    while any(_alive(pid) for pid in running) and time.monotonic() < left:
        time.sleep(0.1)
    assert not [pid for pid in running if _alive(pid)], _commands({p for p in running if _alive(p)})
    assert code == 129, code
    doc = json.loads(progress.path.read_text(encoding="utf-8"))  # kept, and valid
    assert doc["format"] == 1 and doc["current"] == "demo/watch"
    assert {t: r["state"] for t, r in doc["steps"].items() if t != "demo/watch"} == {
        "demo/namespace": "skipped", "demo/config": "skipped"}
    sandbox = state / "sandbox"
    assert (sandbox / "store.json").is_file() and not (sandbox / "owner.json").exists()  # stopped, not killed


@pytest.mark.parametrize("leave", [b"q", None], ids=["q", "terminal-closed"])
def test_leaving_while_connecting_stops_the_sandbox_that_connect_was_starting(tmp_path, leave):
    """q, or the terminal going away, as soon as the lesson list is painted: the connect worker is
    still starting the embedded sandbox then, and the engine it makes reaches an app that has left.
    That engine is closed too; it once kept the process alive with its threads (and Textual's input
    thread reading /dev/null at most of a core)."""
    needs_kubectl()
    state = tmp_path / "state"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "GATEWAY_TUTORIAL_STATE_DIR": str(state), "KUBECONFIG": str(tmp_path / "no-kubeconfig"),
           "PYTHONPATH": str(REPO)}
    term = Terminal([sys.executable, "-m", "tutorial", "--sandbox", "--lessons", str(DEMO_LESSONS)], env, True)
    try:
        term.until("connecting")  # painted; the sandbox is not serving yet
        if leave:
            term.press(leave)
            deadline = time.monotonic() + GONE_WITHIN
            while term.proc.poll() is None and time.monotonic() < deadline:  # keep the pty drained
                if select.select([term.master], [], [], 0.2)[0]:
                    try:
                        term.raw += os.read(term.master, 1 << 16)
                    except OSError:
                        break
    finally:
        term.close()
    code = term.ended("after leaving while it connected")
    assert code == (0 if leave else 129), code
    assert not (state / "sandbox" / "owner.json").exists()  # the sandbox it started was stopped
