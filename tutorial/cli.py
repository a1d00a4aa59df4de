"""Command line entry point.

No subcommand opens the TUI; the others serve learners, instructors and lesson authors.
Each subcommand lives in `tutorial/commands/<name>.py` with `add_arguments(parser)` and
`run(args) -> int`. Those modules must stay cheap to import (no kubernetes, no textual at
module level) because building the parser imports all of them. The TUI's own options
(`gateway-tutorial [cluster options]`) are parsed without building it (tutorial_args).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from typing import Sequence

from tutorial import __version__
from tutorial.exitcodes import EXIT_USAGE

# (name, module, one-line help). Order is the order shown in --help.
COMMANDS: list[tuple[str, str, str]] = [
    ("lessons", "lessons", "list lessons and steps with this cluster's progress"),
    ("run", "run", "run lesson steps against the cluster"),
    ("check", "check", "check lesson steps against the cluster"),
    ("explain", "explain", "explain why checks fail and how to fix them"),
    ("lint", "lint", "check lesson files for mistakes (for lesson authors)"),
    ("doctor", "doctor", "check tools, cluster and environment before you start"),
    ("shell", "shell", "open a shell set up for the tutorial's cluster (every shown command works there)"),
    ("map", "map", "draw the north/south traffic path and where it breaks"),
    ("status", "status", "instructor: progress of many lab clusters"),
    ("prepare", "prepare", "instructor: bring many lab clusters to a lesson step"),
    ("reset", "reset", "instructor: undo what the tutorial created on lab clusters"),
    ("sandbox", "sandbox", "the simulated sandbox cluster: serve, reset"),
    ("assets", "assets", "download what lessons fetch from the network, for offline workshops"),
]


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Cluster options, accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("cluster options")
    group.add_argument("--context", default=default, metavar="C",
                       help="kubeconfig context to use (default: the current context)")
    group.add_argument("--kubeconfig", default=default, metavar="P",
                       help="kubeconfig file(s); default: $KUBECONFIG, else ~/.kube/config")
    group.add_argument("--sandbox", action="store_true",
                       default=argparse.SUPPRESS if suppress else False,
                       help="use the built-in simulated sandbox cluster")
    group.add_argument("--lessons", default=default, metavar="DIR",
                       help="read lessons from DIR instead of the bundled ones")
    group.add_argument("--offline", action="store_true", default=argparse.SUPPRESS if suppress else False,
                       help="never download: use the asset cache (`assets fetch`) and say what is missing")
    group.add_argument("--allow-production", default=default, metavar="CONTEXT",
                       help="run commands on a production-looking context without asking (name it exactly)")


def _load(module: str):
    return importlib.import_module(f"tutorial.commands.{module}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway-tutorial",
        description="Learn north/south traffic on Kubernetes with the Gateway API and Istio. "
        "Without a subcommand, opens the interactive tutorial.",
    )
    parser.add_argument("--version", action="version", version=f"gateway-tutorial {__version__}")
    add_global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, help_text in COMMANDS:
        sp = sub.add_parser(name, help=help_text, description=help_text)
        add_global_options(sp, suppress=True)
        mod = _load(module)
        mod.add_arguments(sp)
        sp.set_defaults(_module=module)
    return parser


def tutorial_args(argv: Sequence[str]) -> argparse.Namespace | None:
    """The options of `gateway-tutorial [cluster options]` (the TUI) without building the full
    parser, else None: anything else (a subcommand, --help, --version, a mistake) needs build_parser.

    Building the full parser imports every subcommand module and asks gettext for ~200 message
    catalogues (~15 ms before the first screen); the TUI needs only the cluster options.
    The result is the Namespace build_parser() would give for the same argv.
    """
    parser = argparse.ArgumentParser(prog="gateway-tutorial", add_help=False, allow_abbrev=False,
                                     exit_on_error=False)
    add_global_options(parser, suppress=False)
    parser.set_defaults(command=None)
    try:
        args, rest = parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):
        return None
    return None if rest else args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = tutorial_args(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    with _offline_env(getattr(args, "offline", False)):
        if args.command is None:
            from tutorial.commands import tui

            return tui.run(args)
        try:
            return int(_load(args._module).run(args) or 0)
        except KeyboardInterrupt:
            print("\nInterrupted. Your progress is saved.", file=sys.stderr)
            return 130


@contextlib.contextmanager
def _offline_env(offline: bool):
    """--offline: every command and subprocess sees offline mode, for this call of main() only."""
    if not offline:
        yield
        return
    previous = os.environ.get("GATEWAY_TUTORIAL_OFFLINE")
    os.environ["GATEWAY_TUTORIAL_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("GATEWAY_TUTORIAL_OFFLINE", None)
        else:
            os.environ["GATEWAY_TUTORIAL_OFFLINE"] = previous


def not_done(name: str, issue: int) -> int:
    """What a subcommand whose issue is not done yet says."""
    print(f"gateway-tutorial {name}: not available yet (planned in issue {issue}).", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
