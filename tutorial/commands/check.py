"""`gateway-tutorial check TARGET`: check lesson steps against the cluster, changing nothing."""

from __future__ import annotations

import argparse
import json

from tutorial.commands._common import add_variant_option, confirm_pack_checks, resolve, with_engine
from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_UNREACHABLE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", nargs="?", default="all",
                        help="all (default), LESSON, LESSON/STEP, or ..LESSON/STEP")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="run a lesson pack's check commands without asking (they are still shown)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S",
                        help="seconds each check may wait for its condition (default 10)")
    parser.add_argument("--explain-now", action="store_true",
                        help="look once, without waiting, and explain every check that fails right now")
    add_variant_option(parser)


def run(args: argparse.Namespace) -> int:
    return with_engine(args, _check)


def _check(engine, args) -> int:
    from rich.markup import escape

    from tutorial.commands._render import WaitingLine, check_json, console, print_check

    pairs = resolve(engine, args.target)
    out = console(stderr=args.json)
    if engine.target.sandbox:
        out.print("[reverse yellow] SANDBOX [/] simulated cluster")
    confirm_pack_checks(engine, pairs, out, args.yes)
    checks = [(step, c) for _, step in pairs for c in step.checks]
    timeout = 0.0 if args.explain_now else args.timeout
    with WaitingLine(out, enabled=not args.json) as waiting:
        results = engine.run_checks(checks, timeout=timeout, on_event=waiting.on_event)
    by_step: dict[str, list] = {}
    for (step, _), result in zip(checks, results):
        by_step.setdefault(step.target, []).append(result)
    rows = []
    for lesson, step in pairs:
        step_results = by_step.get(step.target, [])
        engine.record_checks(step, step_results, ran=False)
        out.print(f"[bold]{escape(step.target)}[/] — {escape(step.title)}")
        for r in step_results:
            print_check(out, r)
            view = _explanation(engine, step, r) if (args.json or args.explain_now) and not r.passed else None
            if view is not None and args.explain_now:
                from tutorial.commands.explain import print_explanation

                print_explanation(out, step, view)
            rows.append(check_json(lesson, step, r, view.to_json() if view is not None else None))
    ok = all(r.passed for r in results)
    unreachable = any(r.unreachable for r in results)
    if args.json:
        print(json.dumps({"ok": ok, "checks": rows}, indent=2))
    if unreachable:
        return EXIT_UNREACHABLE
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _explanation(engine, step, result):
    from tutorial.engine.explain import explain_result

    return explain_result(engine, step, result)
