"""What the learner-facing subcommands share: loading lessons, choosing the cluster, errors."""

from __future__ import annotations

import sys
from pathlib import Path

from tutorial.exitcodes import EXIT_UNREACHABLE, EXIT_USAGE


class CommandFailed(Exception):
    """Stop the subcommand with this message and exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def load_lesson_set(args):
    """The lessons named by --lessons (or the bundled ones), from the cache when unchanged."""
    from tutorial.lessons import LessonErrors
    from tutorial.lessons.cache import load_lessons_cached
    from tutorial.paths import assets_dir, lessons_dir

    directory = Path(getattr(args, "lessons", None) or lessons_dir())
    try:
        return load_lessons_cached(directory, assets_dir())
    except LessonErrors as exc:
        raise CommandFailed(f"{exc}\nThe lesson files have problems; `gateway-tutorial lint {directory}` "
                            "lists them.", EXIT_USAGE) from exc


def open_engine(args, *, need_cluster: bool = True, runs_commands: bool = False):
    """An Engine on the chosen cluster with its progress store; exits 3 if it does not answer."""
    from tutorial.engine.progress import ProgressStore, check_variants
    from tutorial.engine.session import Engine
    from tutorial.engine.target import TargetError, choose_target, probe

    lessons = load_lesson_set(args)
    try:
        target = choose_target(args)
    except TargetError as exc:
        raise CommandFailed(f"{exc}\nTo practise without a cluster, add --sandbox.", EXIT_UNREACHABLE) from exc
    if runs_commands:  # before the probe: a production-looking name is judged before the server's word
        from tutorial.engine.safety import confirm

        if not confirm(target, allow=getattr(args, "allow_production", None)):
            target.release()
            raise CommandFailed("nothing was run on a production-looking context without confirmation.", EXIT_USAGE)
    if need_cluster:
        problem = probe(target)  # also tells a `sandbox serve` cluster apart (simulated tools, label)
        if problem:
            target.release()
            raise CommandFailed(f"{problem}\nCheck the context (`kubectl config get-contexts`), or add --sandbox "
                                "to use the simulated sandbox cluster.", EXIT_UNREACHABLE)
    progress = ProgressStore.for_cluster(*target.identity)
    check_variants(progress, lessons)
    if progress.warning:
        print(progress.warning, file=sys.stderr)
    apply_variants(lessons, progress, getattr(args, "variant", None) or [])
    from tutorial.engine.pack import LessonPack

    engine = Engine(lessons, target, progress)
    engine.pack = LessonPack.of(getattr(args, "lessons", None), lessons)
    return engine


def with_engine(args, body, *, runs_commands: bool = False) -> int:
    """Open the engine, run body(engine, args), always close it; CommandFailed becomes its exit code."""
    try:
        engine = open_engine(args, runs_commands=runs_commands)
    except CommandFailed as exc:
        return fail(exc)
    try:
        return body(engine, args)
    except CommandFailed as exc:
        return fail(exc)
    finally:
        engine.close()
        engine.target.release()


def apply_variants(lessons, progress, pairs: list[str]) -> None:
    """--variant LESSON=VARIANT choices, remembered in progress like the TUI's choice."""
    for pair in pairs:
        lesson_id, sep, variant = pair.partition("=")
        try:
            lesson = lessons.lesson(lesson_id)
        except Exception as exc:
            raise CommandFailed(str(exc), EXIT_USAGE) from exc
        known = [v.id for v in lesson.variants]
        if not sep or variant not in known:
            raise CommandFailed(f"--variant {pair}: lesson {lesson_id} has variants {', '.join(known) or '(none)'}; "
                                f"write --variant {lesson_id}=VARIANT", EXIT_USAGE)
        progress.set_variant(lesson_id, variant)


def add_variant_option(parser) -> None:
    parser.add_argument("--variant", action="append", metavar="LESSON=VARIANT",
                        help="choose a lesson's variant, e.g. --variant istio=istioctl (remembered)")


def resolve(engine, target: str):
    from tutorial.lessons import TargetError

    try:
        return engine.steps(target)
    except TargetError as exc:
        raise CommandFailed(str(exc), EXIT_USAGE) from exc


def fail(exc: CommandFailed) -> int:
    print(f"gateway-tutorial: {exc}", file=sys.stderr)
    return exc.code


def confirm_pack_checks(engine, pairs, out, yes: bool) -> None:
    """Before `check`/`explain` run a lesson pack's checks: name the pack, show its check commands
    and ask (or --yes); unconfirmed ones are then reported as not run, never run."""
    from rich.markup import escape
    from rich.prompt import Confirm

    from tutorial.engine.pack import shown_check_commands

    if engine.pack is None:
        return
    shown = [p for _, step in pairs for p in shown_check_commands(engine, step)
             if not engine.pack.allows(p.spec.argv)]
    if not shown:
        return
    out.print(f"[bold yellow]⚠ Not the bundled lessons:[/] {escape(engine.pack.notice)}", soft_wrap=True)
    for prepared in shown:
        out.print(f"   [bold]$[/] {escape(prepared.display)}  [dim]# {escape(prepared.title)}[/]", soft_wrap=True)
    if yes or (sys.stdin.isatty() and Confirm.ask("   Run these check commands?", default=False, console=out)):
        engine.pack.confirm(list(p.spec.argv) for p in shown)
    else:
        out.print("   These check commands are not run (confirm them, or add --yes).")
