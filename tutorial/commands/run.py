"""`gateway-tutorial run TARGET`: run lesson steps against the cluster, then check them."""

from __future__ import annotations

import argparse
import json
import sys

from tutorial.commands._common import CommandFailed, add_variant_option, resolve, with_engine
from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_UNREACHABLE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET",
                        help="all, LESSON, LESSON/STEP, or ..LESSON/STEP (everything up to it)")
    parser.add_argument("--yes", "-y", action="store_true", help="run without asking before each command")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--solve", action="store_true", help="run each step's solve commands (idempotent)")
    parser.add_argument("--again", action="store_true", help="run steps even when they are already done")
    add_variant_option(parser)


def run(args: argparse.Namespace) -> int:
    return with_engine(args, _run, runs_commands=True)


def _run(engine, args) -> int:
    from rich.markup import escape

    from tutorial.commands._render import console
    from tutorial.engine.pack import check_commands

    pairs = resolve(engine, args.target)
    out = console(stderr=args.json)
    if engine.target.sandbox:
        out.print("[reverse yellow] SANDBOX [/] simulated cluster — nothing here runs real pods.")
    out.print(f"Cluster: [bold]{escape(engine.target.context)}[/] ({escape(engine.target.server)})")
    if engine.pack is not None:  # before the first command: whose lessons these are, what they run
        out.print(f"[bold yellow]⚠ Not the bundled lessons:[/] {escape(engine.pack.notice)}", soft_wrap=True)
        if args.yes:
            engine.pack.confirm(argv for _, step in pairs for argv in check_commands(engine, step))
    report, ok = [], True
    for lesson, step in pairs:
        step_ok, rows = _one_step(engine, lesson, step, args, out)
        report.extend(rows)
        if not step_ok:
            ok = False
            gone = _unreachable(engine, rows)
            if gone:
                out.print(f"[red]✘ Stopped:[/] {escape(gone)}", soft_wrap=True)
                if args.json:
                    print(json.dumps({"ok": False, "unreachable": True, "checks": report}, indent=2))
                return EXIT_UNREACHABLE
            out.print("[red]✘ Stopped:[/] this step did not pass; later steps depend on it. "
                      f"`gateway-tutorial explain {step.target}` says why.")
            break
    if args.json:
        print(json.dumps({"ok": ok, "checks": report}, indent=2))
    return EXIT_OK if ok else EXIT_CHECK_FAILED


def _one_step(engine, lesson, step, args, out):
    from rich.markup import escape

    from tutorial.commands._render import check_json, print_check

    out.print(f"\n[bold]▶ {escape(step.target)}[/] — {escape(step.title)}")
    if engine.pack is not None and not args.yes and not _confirm_all(engine, step, args, out):
        engine.record(step, "skipped", "declined by the learner")
        out.print("   [yellow]↷ skipped[/]")
        return True, []
    if not args.again and engine.progress.get(step.target).state == "done":
        results = engine.check_step(step, timeout=5)
        if all(r.passed for r in results):
            out.print("   [green]✔ already done[/] (checks pass; --again runs it anyway)")
            return True, [check_json(lesson, step, r) for r in results]
        if all(r.passed or r.transient for r in results):  # the API server's trouble, not the step's
            trouble = next(r for r in results if r.transient)
            out.print(f"   [yellow]✔ done[/] (kept: {escape(trouble.observed)})", soft_wrap=True)
            return True, [check_json(lesson, step, r) for r in results]
    if engine.pack is None and not args.yes and not _confirm_all(engine, step, args, out):
        engine.record(step, "skipped", "declined by the learner")
        out.print("   [yellow]↷ skipped[/]")
        return True, []
    outcome = engine.run_step(step, solve=args.solve, on_event=_printer(out, args.json))
    for r in outcome.checks:
        print_check(out, r)
    bad = outcome.failed_command
    if bad is not None:
        out.print(f"   [red]✘ command failed[/] (exit {bad.exit_code}): {escape(bad.explanation or '')}")
    if not outcome.ok and not outcome.cancelled:
        _explain_failure(engine, step, outcome, out)
    return outcome.ok, [check_json(lesson, step, r) for r in outcome.checks]


def _explain_failure(engine, step, outcome, out) -> None:
    """The step's failure explained now (and kept in progress, where `explain` finds it again)."""
    from tutorial.commands.explain import print_explanation
    from tutorial.engine.explain import step_explanation

    try:
        explanation = step_explanation(engine, step, outcome.checks, outcome.failed_command)
    except Exception as exc:  # the explanation is a help; the verdict above stands without it
        out.print(f"   [dim](no explanation: {type(exc).__name__}: {exc})[/]")
        return
    if explanation:
        engine.remember_explanation(step, explanation)
        print_explanation(out, step, _View(explanation))


class _View:
    """An explanation's JSON read like an ExplanationView by print_explanation."""

    def __init__(self, data: dict):
        self.check_title, self.title = data.get("check_title") or "", data.get("title") or ""
        self.observed, self.why, self.fix = list(data.get("observed") or []), data.get("why") or "", data.get("fix") or ""
        self.fix_command, self.source, self.evidence = data.get("fix_command"), data.get("source"), None


def _confirm_all(engine, step, args, out) -> bool:
    from rich.markup import escape
    from rich.prompt import Confirm

    from tutorial.engine.pack import shown_check_commands

    for prepared in engine.prepare(step, solve=args.solve):
        if not prepared.show_only:
            out.print(f"   [bold]$[/] {escape(prepared.display)}", soft_wrap=True)
    checks = shown_check_commands(engine, step)  # a lesson pack's check commands are asked about too
    for prepared in checks:
        out.print(f"   [bold]$[/] {escape(prepared.display)}  [dim]# {escape(prepared.title)}[/]", soft_wrap=True)
    if not sys.stdin.isatty():
        raise CommandFailed("run asks before running commands, and there is no terminal to ask on; "
                            "add --yes to run them without asking", 2)
    if not Confirm.ask("   Run these commands?", default=True, console=out):
        return False
    if engine.pack is not None:
        engine.pack.confirm(list(p.spec.argv) for p in checks)
    return True


def _printer(out, quiet: bool):
    from rich.markup import escape

    from tutorial.engine.session import CommandEnded, CommandStarted, OutputLine, StepNote

    def on_event(event):
        if isinstance(event, StepNote):
            out.print(f"   [cyan]ℹ[/] {escape(event.text)}")
        elif isinstance(event, CommandStarted):
            title = f"  [dim]# {escape(event.command.title)}[/]" if event.command.title else ""
            out.print(f"   [bold]$[/] {escape(event.command.display)}{title}", soft_wrap=True)  # copy-pasteable
        elif isinstance(event, OutputLine):
            out.print(f"     [dim]{escape(event.line)}[/]", soft_wrap=True)  # the tool's own lines, unbroken
        elif isinstance(event, CommandEnded) and not event.result.ok:
            out.print(f"   [red]✘ exit {event.result.exit_code}[/]")
    return on_event


def _unreachable(engine, rows) -> str | None:
    """Why the step failed when it is the cluster that stopped answering (exit 3), else None.

    A check that could not reach the API server says so itself; a failed command could be the
    lesson's fault or the cluster's, so the cluster is asked once more."""
    from tutorial.engine.target import probe

    if not any(r.get("unreachable") for r in rows):
        problem = probe(engine.target, timeout=3.0)
        if problem is None:
            return None
        return f"{problem}. The cluster stopped answering; your progress is kept, so run the same command again once it is back."
    return (f"the cluster of context {engine.target.context} at {engine.target.server} stopped answering; your "
            "progress is kept, so run the same command again once it is back.")
