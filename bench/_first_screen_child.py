"""Child process for bench_first_screen: start an app headless, report first paint, exit.

MODE `bare` is a plain Textual app (Header, Static, Footer); MODE `tutorial` builds the
tutorial through the same factory the command line uses.
"""

from __future__ import annotations

import os
import sys
import time

T0 = float(os.environ["BENCH_T0"])


async def _auto_pilot(pilot) -> None:
    await pilot.pause()  # let the first refresh happen
    sys.stdout.write(f"FIRST_PAINT {time.time() - T0:.6f}\n")
    sys.stdout.flush()
    pilot.app.exit()


def bare_app():
    from textual.app import App
    from textual.widgets import Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("Hello")
            yield Footer()

    return Bare()


def tutorial_app():
    from tutorial.cli import build_parser
    from tutorial.commands.tui import make_app

    args = build_parser().parse_args(sys.argv[2:])
    return make_app(args)


if __name__ == "__main__":
    app = bare_app() if sys.argv[1] == "bare" else tutorial_app()
    app.run(headless=True, size=(100, 30), auto_pilot=_auto_pilot)
