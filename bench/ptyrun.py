"""Run a program in a pseudo-terminal and time when given texts first appear on its screen.

The clock starts just before the process is spawned; a text counts as on screen when the bytes
that complete it have been read from the terminal (escape sequences removed). Used by
bench_first_screen, which measures what a learner sees, from outside the process.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

_ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b[=>]")
QUIT = b"\x11"  # Ctrl-Q: Textual's quit key, in the bare app and in the tutorial


def times_to_texts(argv: list[str], texts: list[str], env: dict, *, size=(100, 30),
                   timeout: float = 60.0) -> dict[str, float]:
    """{text: seconds from spawn until it was on screen}; RuntimeError if one never appears."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    found: dict[str, float] = {}
    raw = b""
    try:
        deadline = start + timeout
        while len(found) < len(texts) and time.monotonic() < deadline:
            if not select.select([master], [], [], 0.5)[0]:
                continue
            chunk = os.read(master, 1 << 16)
            arrived = time.monotonic() - start
            if not chunk:
                break
            raw += chunk
            screen = _ESCAPES.sub(b"", raw).decode("utf-8", "replace")
            for text in texts:
                if text not in found and text in screen:
                    found[text] = arrived
        _quit(proc, master)
    finally:
        os.close(master)
    missing = [t for t in texts if t not in found]
    if missing:
        tail = _ESCAPES.sub(b"", raw).decode("utf-8", "replace")[-1500:]
        raise RuntimeError(f"{' '.join(argv)}: {missing} never appeared on screen; last output:\n{tail}")
    return found


def _quit(proc: subprocess.Popen, master: int) -> None:
    """Ask the app to quit like a user; end its process group if it does not."""
    try:
        os.write(master, QUIT)
        end = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < end:
            if select.select([master], [], [], 0.2)[0]:
                os.read(master, 1 << 16)  # keep draining, or the app blocks on a full terminal
    except OSError:
        pass
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
