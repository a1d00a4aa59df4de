"""`gateway-tutorial lint [PATH...]`: check lesson files, report every problem at once."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tutorial.exitcodes import EXIT_OK, EXIT_USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", type=Path,
                        help="lesson files or directories (default: the lessons in use)")
    parser.add_argument("--assets", metavar="DIR", type=Path, default=None,
                        help="assets directory manifest files are relative to "
                             "(default: the bundled assets)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from tutorial import paths
    from tutorial.lessons.lint import lint

    targets = list(args.paths) or [Path(getattr(args, "lessons", None) or paths.lessons_dir())]
    report = lint(targets, args.assets or paths.assets_dir())
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for problem in report.problems:
            print(problem)
        print(report.summary())
    return EXIT_OK if report.ok else EXIT_USAGE
