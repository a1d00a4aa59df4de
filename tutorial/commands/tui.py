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


def production_confirmed(args: argparse.Namespace) -> bool:
    """A production-looking context must be confirmed before the app can run anything on it.

    Asked here, while the terminal is still a plain terminal; no network I/O.
    """
    if getattr(args, "sandbox", False):
        return True
    from tutorial.engine.safety import confirm
    from tutorial.engine.target import TargetError, kube_target

    try:
        target = kube_target(getattr(args, "kubeconfig", None), getattr(args, "context", None))
    except TargetError:
        return True  # no usable context: the app opens on the sandbox
    return confirm(target, allow=getattr(args, "allow_production", None))


def run(args: argparse.Namespace) -> int:
    from tutorial.exitcodes import EXIT_USAGE

    if not production_confirmed(args):
        return EXIT_USAGE
    app = make_app(args)
    app.run()
    return int(app.return_code or 0)
