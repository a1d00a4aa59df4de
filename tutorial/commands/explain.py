"""`gateway-tutorial explain [TARGET]`: check steps and explain each failing check: what the
cluster shows, why it happens, and the fix (a command with your names filled in)."""

from __future__ import annotations

import argparse
import json

from tutorial.commands._common import add_variant_option, confirm_pack_checks, resolve, with_engine
from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_UNREACHABLE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", nargs="?", default=None,
                        help="all, LESSON, LESSON/STEP, or ..LESSON/STEP "
                             "(default: the steps recorded as failed, else all)")
    parser.add_argument("--json", action="store_true", help="print the explanations as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="seconds each check may wait for its condition (default 5)")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="run a lesson pack's check commands without asking (they are still shown)")
    add_variant_option(parser)


def run(args: argparse.Namespace) -> int:
    return with_engine(args, _explain)


def default_pairs(engine):
    """The steps recorded as failed (in lesson order), else every step."""
    pairs = resolve(engine, "all")
    failed = [(lesson, step) for lesson, step in pairs if engine.progress.get(step.target).state == "failed"]
    return failed or pairs


def _explain(engine, args) -> int:
    from tutorial.commands._render import check_json, console
    from tutorial.engine.explain import explain_result

    pairs = resolve(engine, args.target) if args.target else default_pairs(engine)
    out = console(stderr=args.json)
    if engine.target.sandbox:
        out.print("[reverse yellow] SANDBOX [/] simulated cluster")
    confirm_pack_checks(engine, pairs, out, getattr(args, "yes", False))
    checks = [(step, c) for _, step in pairs for c in step.checks]
    results = engine.run_checks(checks, timeout=args.timeout)
    views = _explain_all(engine, [step for step, _ in checks], results, explain_result)
    rows, failing, seen = [], 0, set()
    for lesson, step in pairs:  # a step whose own command failed: that failure comes first
        view = _command_view(engine, step)
        if view is not None:
            failing += 1
            rows.append({"lesson": lesson.id, "step": step.id, "check": "command", "kind": "command",
                         "title": view.check_title, "passed": False, "observed": " ".join(view.observed),
                         "unreachable": False, "explanation": view.to_json()})
            print_explanation(out, step, view)
            seen.add((view.rule_id, view.title))
    for (step, _), result, view in zip(checks, results, views):
        lesson = engine.lessons.lesson(step.lesson_id)
        rows.append(check_json(lesson, step, result, view.to_json() if view else None))
        if view is not None:
            failing += 1
            print_explanation(out, step, view, repeat=(view.rule_id, view.title) in seen)
            seen.add((view.rule_id, view.title))
    for _, step in pairs:
        step_results = [r for (s, _), r in zip(checks, results) if s is step]
        command = _stored_command(engine, step)
        if command is None or (step_results and all(r.passed for r in step_results)):
            engine.record_checks(step, step_results, ran=False)
            first = next((v for (s, _), v in zip(checks, views) if s is step and v is not None), None)
            if first is not None:
                engine.remember_explanation(step, first.to_json(with_evidence=False))
    from tutorial.engine.pack import NOT_CONFIRMED

    not_run = sum(1 for r in results if r.error == NOT_CONFIRMED)
    if not_run:  # a check that did not run proves nothing: never "all pass"
        out.print(f"{not_run} check(s) not run (their commands were not confirmed); add --yes to run them.")
    elif not failing:
        out.print(f"[green]✔[/] all {len(results)} check(s) pass; nothing to explain.")
    if args.json:
        print(json.dumps({"ok": failing == 0 and not not_run, "checks": rows}, indent=2))
    if any(r.unreachable for r in results):
        return EXIT_UNREACHABLE
    return EXIT_CHECK_FAILED if failing or not_run else EXIT_OK


def _stored_command(engine, step) -> dict | None:
    """The step's last failed command, as progress keeps it (only while the step stays failed)."""
    record = engine.progress.get(step.target)
    command = (record.verdict or {}).get("failed_command") if record.state == "failed" else None
    return command if isinstance(command, dict) and command.get("argv") else None


def _command_view(engine, step):
    """The explanation of the step's last failed command, through the same rules as the TUI's."""
    from tutorial.engine.evidence import command_evidence
    from tutorial.engine.explain import explain_evidence

    command = _stored_command(engine, step)
    if command is None:
        return None
    view = explain_evidence(command_evidence(command), step)
    engine.remember_explanation(step, view.to_json(with_evidence=False))
    return view


def _explain_all(engine, steps, results, explain_result) -> list:
    """Explanations of every result (None if it passed), gathered in parallel: each asks the cluster."""
    from concurrent.futures import ThreadPoolExecutor

    from tutorial.engine.pack import NOT_CONFIRMED

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="explain") as pool:
        return list(pool.map(lambda pair: None if pair[1].error == NOT_CONFIRMED else explain_result(engine, *pair),
                             zip(steps, results)))


def _md(text: str) -> str:
    """Escape for rich, then show `code` spans in cyan."""
    import re

    from rich.markup import escape

    return re.sub(r"`([^`]+)`", r"[cyan]\1[/]", escape(text))


def print_explanation(out, step, view, repeat: bool = False) -> None:
    """Title, what was observed, why, and the fix with its command (a repeat: the title only)."""
    from rich.markup import escape

    from tutorial.engine.visible import join_argv

    out.print(f"\n[red]✘[/] [bold]{escape(step.target)}[/] · {escape(view.check_title)}")
    out.print(f"  [bold]{_md(view.title)}[/]")
    if repeat:
        out.print("  [dim]Same cause as above; the same fix applies.[/]")
        return
    if view.observed:
        out.print("  [dim]What the cluster shows:[/]")
        for line in view.observed:
            out.print(f"    {escape(line)}")
    out.print(f"  [dim]Why:[/] {_md(view.why)}")
    out.print(f"  [dim]Fix:[/] {_md(view.fix)}")
    if view.fix_command:
        out.print(f"    [green]$[/] {escape(join_argv(view.fix_command))}")
    if view.source == "generic" and view.evidence:
        out.print("  [dim]Raw evidence (also in --json):[/]")
        out.print(escape(json.dumps({k: v for k, v in view.evidence.items() if k not in ("check", "params")},
                                    indent=2, default=str)[:3000]))
