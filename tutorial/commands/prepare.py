"""`gateway-tutorial prepare` (not implemented yet: issue 8)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from tutorial.cli import not_done

    return not_done("prepare", 8)
