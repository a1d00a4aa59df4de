"""`gateway-tutorial prepare TARGET`: bring many lab clusters to the state after TARGET (instructors)."""

from __future__ import annotations

import argparse

PREPARE_TIMEOUT = 900.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tutorial.commands._common import add_variant_option
    from tutorial.instructor.selection import add_selection_options

    parser.add_argument("target", metavar="TARGET",
                        help="the step to reach: LESSON/STEP or LESSON (everything up to it runs), or all")
    add_selection_options(parser, timeout=PREPARE_TIMEOUT)
    add_variant_option(parser)


def run(args: argparse.Namespace) -> int:
    from tutorial.commands._common import CommandFailed, fail, load_lesson_set
    from tutorial.instructor.fleet import Fleet, fleet_state_dir
    from tutorial.instructor.selection import SelectionError, allowed_production, select, show_and_confirm
    from tutorial.commands._render import console

    out = console()
    try:
        clusters, view = select(args)
        lessons = load_lesson_set(args)
        target = _upto(lessons, args.target)
        show_and_confirm(out, clusters, f"prepare up to {args.target}", yes=args.yes, allow=allowed_production(args),
                         explain=f"Runs each step's solution, up to {args.target}, on every cluster "
                                 "(steps already done are skipped and recorded as found).")
        fleet = Fleet(clusters, lessons, variants=args.variant, state_dir=fleet_state_dir(), view=view)
    except SelectionError as exc:
        if not exc.code:
            out.print(str(exc), markup=False)  # "nothing done (not confirmed)"
            return 0
        return fail(CommandFailed(str(exc), exc.code))
    except CommandFailed as exc:
        return fail(exc)
    try:
        return _prepare(fleet, target, args, out)
    except KeyboardInterrupt:
        out.print("[yellow]Interrupted:[/] running commands were stopped; what they created is in each "
                  "cluster's journal, so `gateway-tutorial reset` can undo it.")
        return 130
    finally:
        fleet.close()


def _upto(lessons, target: str) -> str:
    """TARGET as the '..TARGET' range prepare runs; a bad name exits 2 with the valid ones."""
    from tutorial.commands._common import CommandFailed
    from tutorial.exitcodes import EXIT_USAGE
    from tutorial.lessons.models import TargetError

    spec = target if target == "all" or target.startswith("..") else f"..{target}"
    try:
        lessons.resolve_target(spec)
    except TargetError as exc:
        raise CommandFailed(str(exc), EXIT_USAGE) from exc
    return spec


PROGRESS_REDRAWS = 1.0  # per second


def _prepare(fleet, target: str, args, out) -> int:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tutorial.instructor import render
    from tutorial.instructor.prepare import prepare_cluster

    columns = (TextColumn("{task.description}", justify="left"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("{task.fields[now]}"))
    # Redrawn once a second (its clock counts seconds; a step takes several), not rich's 10 times:
    # one redraw of 30 clusters' rows costs ~25 ms of CPU on a terminal, so 10 a second took a
    # quarter of a core for the whole prepare (~0.8 s per cluster of a 30-cluster prepare).
    with Progress(*columns, console=out, transient=False, refresh_per_second=PROGRESS_REDRAWS) as bars:
        tasks = {r.context: bars.add_task(escape(r.context), total=None, now="queued") for r in fleet.runs}

        def on_step(run, index, step_target):
            bars.update(tasks[run.context], total=run.total, completed=index, now=escape(step_target or "done"))

        def job(run):
            run.total = len(run.engine.steps(target))
            return prepare_cluster(run, target, on_step)

        def on_change(run):
            if run.state not in ("running", "ok"):
                bars.update(tasks[run.context], now=render.mark(run.state))

        fleet.run(job, parallel=args.parallel, timeout=args.timeout, on_change=on_change)
    out.print(render.summary(fleet.runs, title=f"prepare up to {args.target}", extra=_detail))
    render.errors(out, fleet.runs)
    return fleet.exit_code()


def _detail(run) -> str:
    done = run.result
    if done is None:
        return run.detail
    counts = f"ran {len(done.ran)}, already done {len(done.skipped)}"
    return f"{run.detail} ({counts})" if run.state == "ok" else f"{counts}; {run.detail}"
