"""`gateway-tutorial reset [TARGET]`: undo what the tutorial created on many lab clusters (instructors).

Only what each cluster's journal says the tutorial created is deleted; `--dry-run` lists it.
"""

from __future__ import annotations

import argparse

RESET_TIMEOUT = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tutorial.instructor.selection import API_PARALLEL, add_selection_options

    parser.add_argument("target", metavar="TARGET", nargs="?", default="all",
                        help="undo this step or lesson and everything after it (default: all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="list what would be deleted and what is kept, and why; change nothing")
    add_selection_options(parser, parallel=API_PARALLEL, timeout=RESET_TIMEOUT)


def run(args: argparse.Namespace) -> int:
    from tutorial.commands._common import CommandFailed, fail, load_lesson_set
    from tutorial.commands._render import console
    from tutorial.exitcodes import EXIT_USAGE
    from tutorial.instructor.fleet import Fleet, fleet_state_dir
    from tutorial.instructor.reset import scope_targets
    from tutorial.instructor.selection import SelectionError, allowed_production, select, show_and_confirm
    from tutorial.lessons.models import TargetError

    out = console()
    try:
        clusters, view = select(args)
        lessons = load_lesson_set(args)
        scope_targets(lessons, args.target)
        if not args.dry_run:
            scope = "every step" if args.target in ("all", "") else f"{args.target} and the steps after it"
            show_and_confirm(out, clusters, f"reset {args.target}", yes=args.yes, allow=allowed_production(args),
                             explain=f"Deletes, on each cluster, what its journal says the tutorial created "
                                     f"({scope}); nothing else. To see exactly what first: --dry-run.")
        fleet = Fleet(clusters, lessons, state_dir=fleet_state_dir(), view=view)
    except SelectionError as exc:
        if not exc.code:
            out.print(str(exc), markup=False)  # "nothing done (not confirmed)"
            return 0
        return fail(CommandFailed(str(exc), exc.code))
    except TargetError as exc:
        return fail(CommandFailed(str(exc), EXIT_USAGE))
    except CommandFailed as exc:
        return fail(exc)
    try:
        return _reset(fleet, args, out)
    except KeyboardInterrupt:
        out.print("[yellow]Interrupted:[/] deletions already sent stay done; run the same reset again to finish.")
        return 130
    finally:
        fleet.close()


def _reset(fleet, args, out) -> int:
    from tutorial.instructor import render
    from tutorial.instructor.reset import reset_cluster

    with out.status(f"{'Planning' if args.dry_run else 'Resetting'} {len(fleet.runs)} cluster(s)…"):
        fleet.run(lambda run: reset_cluster(run, args.target, dry_run=args.dry_run),
                  parallel=args.parallel, timeout=args.timeout)
    if args.dry_run:
        for run in fleet.runs:
            if run.result is not None:
                _print_plan(out, run)
    title = f"reset {args.target}" + (" (dry run: nothing changed)" if args.dry_run else "")
    out.print(render.summary(fleet.runs, title=title))
    render.errors(out, fleet.runs)
    if not args.dry_run and all(r.result is not None and r.result.empty for r in fleet.runs if r.state == "ok"):
        out.print("Nothing to reset: no selected cluster's journal lists anything the tutorial created.")
    return fleet.exit_code()


def _print_plan(out, run) -> None:
    """Exactly what a reset would delete on one cluster, what it keeps and what it refuses, and why
    (one line each; names from the journal are outside input: invisible characters shown escaped)."""
    from rich.markup import escape as rich_escape

    from tutorial.engine.visible import escape_invisible
    from tutorial.instructor import render

    def escape(text: str) -> str:
        return rich_escape(escape_invisible(text))

    plan = run.result
    name = f"[bold]{escape(run.context)}[/] ({escape(run.cluster.server)})"
    if plan.empty:
        out.print(f"{name}: nothing to reset (the journal lists nothing the tutorial created)", soft_wrap=True)
        return
    rows = []
    for a in plan.actions:
        if a.status == "refused":
            continue  # listed below with why
        rows.append((render.mark(a.status), f"{escape(a.how)}  [dim](recorded by {escape(a.step)})[/]"))
        rows += [("", f"  with {escape(what)}") for what in a.contents]
    rows += [(render.mark("kept"), f"{escape(what)}: {escape(why)}") for what, why in plan.kept]
    rows += [(render.mark("refused"), f"{escape(what)}: {escape(why)}") for what, why in plan.refused]
    if not out.is_terminal:  # piped: one line per object, whole, for grep and diff
        out.print(f"{name}: would undo {escape(', '.join(plan.steps))}", soft_wrap=True)
        for symbol, text in rows:
            out.print(f"  {symbol}  {text}", soft_wrap=True)
        return
    from rich.padding import Padding
    from rich.table import Table

    out.print(f"{name}: would undo {escape(', '.join(plan.steps))}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")  # wraps between words, under its own column
    for symbol, text in rows:
        grid.add_row(symbol, text)
    out.print(Padding(grid, (0, 0, 0, 2)))
