"""`gateway-tutorial status`: a live matrix of lab clusters x lesson steps (instructors)."""

from __future__ import annotations

import argparse

STATUS_TIMEOUT = 20.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tutorial.commands._common import add_variant_option
    from tutorial.instructor.selection import API_PARALLEL, add_selection_options

    add_selection_options(parser, parallel=API_PARALLEL, timeout=STATUS_TIMEOUT)
    parser.add_argument("--json", action="store_true", help="print the matrix as JSON")
    parser.add_argument("--watch", action="store_true", help="refresh the matrix in place until Ctrl-C")
    parser.add_argument("--interval", type=float, default=2.0, metavar="SECONDS",
                        help="seconds between refreshes with --watch (default 2)")
    add_variant_option(parser)  # which path a cluster is on, when this machine did not prepare it


def run(args: argparse.Namespace) -> int:
    from tutorial.commands._common import CommandFailed, fail, load_lesson_set
    from tutorial.instructor.fleet import Fleet, fleet_state_dir
    from tutorial.instructor.selection import SelectionError, select

    try:
        clusters, view = select(args)
        lessons = load_lesson_set(args)
        fleet = Fleet(clusters, lessons, variants=args.variant, state_dir=fleet_state_dir(), view=view)
    except SelectionError as exc:
        return fail(CommandFailed(str(exc), exc.code))
    except CommandFailed as exc:
        return fail(exc)
    try:
        if args.watch:
            return _watch(fleet, args)
        statuses, pairs = gather(fleet, args)
        return _print(fleet, statuses, pairs, args)
    except KeyboardInterrupt:
        return 130
    finally:
        fleet.close()


def gather(fleet, args):
    """One status per cluster, evaluated concurrently; unreachable clusters included."""
    from tutorial.instructor.status import cluster_status, status_steps, unreachable_status

    pairs = status_steps(fleet.lessons)
    for run in fleet.runs:
        run.state, run.detail, run.timed_out, run.result = "queued", "", False, None
        run.cancel.clear()
    fleet.run(lambda run: cluster_status(run, pairs), parallel=args.parallel, timeout=args.timeout)
    return [r.result or unreachable_status(r, pairs) for r in fleet.runs], pairs


def _print(fleet, statuses, pairs, args) -> int:
    import json

    from tutorial.instructor import render

    if args.json:
        print(json.dumps({"steps": [s.target for _, s in pairs], "clusters": [s.to_json() for s in statuses]},
                         indent=2))
    else:
        out = render.wide_console()
        out.print(render.status_view(out, statuses, pairs))
        render.errors(out, [r for r in fleet.runs if r.state != "ok"])
    return fleet.exit_code()


def _watch(fleet, args) -> int:
    """Rows updated in place as each cluster answers; Ctrl-C ends it (exit 0: watching is not a failure)."""
    import threading

    from tutorial.instructor import render
    from tutorial.instructor.board import StatusBoard, watch
    from tutorial.instructor.status import cluster_status, status_steps, unreachable_status

    pairs = status_steps(fleet.lessons)
    out, stop = render.wide_console(), threading.Event()
    try:
        watch(StatusBoard(fleet.runs, pairs), fleet, lambda run: cluster_status(run, pairs),
              lambda run: unreachable_status(run, pairs),
              interval=args.interval, stop=stop, out=out, parallel=args.parallel, timeout=args.timeout)
    except KeyboardInterrupt:
        stop.set()
        fleet.stop()
    return 0
