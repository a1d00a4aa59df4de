"""`gateway-tutorial lessons`: the lessons and steps, with this cluster's recorded progress."""

from __future__ import annotations

import argparse
import json
import sys

from tutorial.commands._common import CommandFailed, fail, load_lesson_set
from tutorial.exitcodes import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.add_argument("--instructor", action="store_true",
                        help="objectives, expected minutes and instructor notes of every lesson")


def _progress(args):
    """Progress of the chosen cluster, or None when no cluster is configured (no network I/O)."""
    from tutorial.engine.progress import ProgressStore
    from tutorial.engine.target import TargetError, kube_target

    if getattr(args, "sandbox", False):
        from tutorial.engine.target import SANDBOX_IDENTITY

        return ProgressStore.for_cluster("sandbox", SANDBOX_IDENTITY), "the sandbox (simulated cluster)"
    try:
        target = kube_target(getattr(args, "kubeconfig", None), getattr(args, "context", None))
    except TargetError:
        return None, "no cluster configured"
    return ProgressStore.for_cluster(target.context, target.server), f"{target.context} ({target.server})"


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from tutorial.commands._render import console, mark

    try:
        lessons = load_lesson_set(args)
    except CommandFailed as exc:
        return fail(exc)
    if args.instructor:
        from tutorial.commands import _lessons_instructor

        return _lessons_instructor.run(lessons, args.json)
    progress, where = _progress(args)
    if progress is not None:
        from tutorial.engine.progress import check_variants

        check_variants(progress, lessons)
        if progress.warning:
            print(progress.warning, file=sys.stderr)
    records = progress.all() if progress else {}
    states = {t: r.state for t, r in records.items()}
    verdicts = {t: r.verdict for t, r in records.items() if r.state == "failed" and r.verdict}
    if args.json:
        data = [{"id": l.id, "title": l.title, "order": l.order,
                 "steps": [{"id": s.id, "target": s.target, "title": s.title, "variant": s.variant,
                            "state": states.get(s.target, "todo"), "verdict": verdicts.get(s.target)}
                           for s in l.steps]} for l in lessons.lessons]
        print(json.dumps({"cluster": where, "lessons": data}, indent=2))
        return EXIT_OK
    out = console()
    out.print(f"Progress for: {escape(where)}")
    for lesson in lessons.lessons:
        out.print(f"\n[bold]{lesson.order}. {escape(lesson.title)}[/]  [dim]({lesson.id})[/]")
        for step in lesson.steps:
            variant = f"  [dim]\\[{step.variant}][/]" if step.variant else ""
            out.print(f"   {mark(states.get(step.target, 'todo'))}  {escape(step.target)} — {escape(step.title)}{variant}")
            if step.target in verdicts:
                print_verdict(out, verdicts[step.target])
    return EXIT_OK


def print_verdict(out, verdict: dict) -> None:
    """Under a failed step: its last explanation's title and fix command (kept until checked again)."""
    import shlex

    from rich.markup import escape

    explanation = verdict.get("explanation") if isinstance(verdict.get("explanation"), dict) else {}
    failing = next((r for r in verdict.get("checks") or [] if isinstance(r, dict) and not r.get("passed")), {})
    command = verdict.get("failed_command") if isinstance(verdict.get("failed_command"), dict) else {}
    title = explanation.get("title") or failing.get("observed") or (
        f"`{shlex.join(command.get('argv') or [])}` failed (exit code {command.get('exit_code')})" if command else "")
    if title:
        out.print(f"             [dim]last check:[/] {escape(str(title))}")
    if explanation.get("fix_command"):
        out.print(f"             [dim]fix:[/] {escape(shlex.join(explanation['fix_command']))}", soft_wrap=True)
    if title:
        out.print("             [dim]`gateway-tutorial explain` says why.[/]")
