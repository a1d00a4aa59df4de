"""`gateway-tutorial` with no subcommand: the interactive tutorial (Textual).

make_app is the one factory the command line, the tests and the bench use. Textual and the
app are imported inside it, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def make_app(args: argparse.Namespace):
    """The TutorialApp for these command-line options (nothing connects until it runs)."""
    from tutorial.ui.app import TutorialApp

    return TutorialApp(args)


def run(args: argparse.Namespace) -> int:
    app = make_app(args)
    app.run()
    return int(app.return_code or 0)
