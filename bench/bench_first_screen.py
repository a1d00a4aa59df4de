"""First usable screen: time until the lesson list's first lesson title is on screen.

Measured from outside, as a learner sees it: `gateway-tutorial --sandbox` runs in a
pseudo-terminal (100x30) and the clock stops when the first lesson's title has been written to
the terminal. Baseline, in the same run and alternately: a bare Textual app (Header, Static,
Footer) until its text is on screen. Byte code is cached (a learner's second start; this machine
sets PYTHONDONTWRITEBYTECODE, which would recompile every module every time) and a first start of
each warms the OS file cache and the lessons cache. Target ratio <= 1.3. Also printed: the time
until the cluster bar says "context sandbox" (connected: the embedded sandbox started and answered).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from _first_screen_child import MARKER
from ptyrun import times_to_texts
from run import Figure

HERE = Path(__file__).resolve().parent
CONNECTED = "context sandbox"


def _first_title() -> str:
    from tutorial.lessons.cache import load_lessons_cached
    from tutorial.paths import assets_dir, lessons_dir

    return load_lessons_cached(lessons_dir(), assets_dir()).lessons[0].title


def measure(runs: int) -> list[Figure]:
    state = tempfile.mkdtemp(prefix="bench-first-screen-")
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": state, "TERM": "xterm-256color"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("TEXTUAL", None)  # no devtools
    bare_argv = [sys.executable, str(HERE / "_first_screen_child.py")]
    ours_argv = [sys.executable, "-m", "tutorial", "--sandbox"]
    title = _first_title()
    times_to_texts(bare_argv, [MARKER], env)  # warm: byte code, OS file cache
    times_to_texts(ours_argv, [title, CONNECTED], env)  # and the lessons cache, the sandbox's state
    bare, first, connected = [], [], []
    for _ in range(runs):
        bare.append(times_to_texts(bare_argv, [MARKER], env)[MARKER])
        seen = times_to_texts(ours_argv, [title, CONNECTED], env)
        first.append(seen[title])
        connected.append(seen[CONNECTED])
    return [Figure("first usable screen (first lesson title on screen, tutorial --sandbox)", first,
                   "bare Textual app's text on screen", bare, target_ratio=1.3),
            Figure("cluster connected (cluster bar says 'context sandbox')", connected,
                   "bare Textual app's text on screen", bare)]
