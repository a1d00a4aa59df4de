"""Which lab clusters a fleet command acts on, and the confirmation before it does.

`--context C` (repeatable), `--match GLOB` (repeatable, over context names) and `--all-contexts`
pick contexts from the kubeconfig (`--kubeconfig P`, else $KUBECONFIG, else ~/.kube/config).
Nothing touches the network here.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass

from tutorial.exitcodes import EXIT_USAGE

DEFAULT_PARALLEL = 8  # prepare: every step starts kubectl/helm processes, which cost CPU
API_PARALLEL = 32     # status and reset only talk to API servers: waiting, not computing


class SelectionError(Exception):
    """The selection options name no usable cluster; exit code and a message naming the fix."""

    def __init__(self, message: str, code: int = EXIT_USAGE):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FleetCluster:
    """One selected context: its name, API server and the KUBECONFIG value that shows it."""

    context: str
    server: str
    kubeconfig: str | None

    @property
    def looks_like_production(self) -> bool:
        """The learner guard's one name test (tutorial.engine.safety.assess), context and server."""
        from tutorial.engine.safety import assess

        return assess(self) is not None


def add_selection_options(parser, *, parallel: int = DEFAULT_PARALLEL, timeout: float | None = None) -> None:
    """--context (repeatable), --all-contexts, --match, --yes, --parallel, --timeout."""
    # The global --context takes one value; fleet commands take it several times, so this
    # subcommand's --context replaces the global one (the top-level spelling still works).
    parser.conflict_handler = "resolve"
    group = parser.add_argument_group("which clusters")
    group.add_argument("--context", action="append", dest="contexts", metavar="C", default=None,
                       help="a kubeconfig context to include (repeat for several)")
    group.add_argument("--match", action="append", metavar="GLOB", default=None,
                       help="include every context whose name matches GLOB, e.g. 'lab-*' (repeatable)")
    group.add_argument("--all-contexts", action="store_true", help="include every context of the kubeconfig")
    group.add_argument("--yes", "-y", action="store_true",
                       help="do not ask for confirmation (a production-looking context still needs "
                            "--allow-production NAME)")
    group.add_argument("--allow-production", action="append", dest="allow_productions", metavar="CONTEXT",
                       default=None, help="act on this production-looking context (its exact name; repeatable)")
    group.add_argument("--parallel", type=int, default=parallel, metavar="N",
                       help=f"clusters worked on at the same time (default {parallel})")
    if timeout is not None:
        group.add_argument("--timeout", type=float, default=timeout, metavar="SECONDS",
                           help=f"give up on one cluster after this long (default {timeout:g})")


def select_clusters(args) -> list[FleetCluster]:
    """The selected contexts in a stable order (kubeconfig order; --context order first)."""
    return select(args)[0]


def select(args):
    """(selected clusters, the KubeconfigView they come from)."""
    from tutorial.cluster.kubeconfig import KubeconfigError, load_kubeconfig

    if getattr(args, "sandbox", False):
        return _embedded_sandbox(args)
    try:
        view = load_kubeconfig(getattr(args, "kubeconfig", None), os.environ)
    except KubeconfigError as exc:
        raise SelectionError(str(exc)) from exc
    if view.empty:
        raise SelectionError("no kubeconfig found; point --kubeconfig at the workshop's kubeconfig")
    names = _requested(args, list(view.contexts))
    clusters = []
    for name in names:
        server = view.server_for(name)
        if not server:
            raise SelectionError(f"context {name!r} has no cluster server in {view.kubeconfig_arg}; fix that entry")
        clusters.append(FleetCluster(name, server, view.kubeconfig_arg))
    return clusters, view


def _embedded_sandbox(args):
    """--sandbox: the learner's own embedded sandbox as a fleet of one (served until exit)."""
    import atexit

    from tutorial.cluster.kubeconfig import load_kubeconfig
    from tutorial.sandbox.embedded import acquire_embedded

    emb = acquire_embedded()
    atexit.register(emb.release)  # flushes the sandbox's state to disk when the command ends
    view = load_kubeconfig(str(emb.kubeconfig), os.environ)
    return [FleetCluster(emb.context, emb.url, view.kubeconfig_arg)], view


def _requested(args, available: list[str]) -> list[str]:
    explicit = list(getattr(args, "contexts", None) or [])
    if getattr(args, "context", None) and args.context not in explicit:
        explicit.insert(0, args.context)  # the global spelling, before the subcommand
    patterns = list(getattr(args, "match", None) or [])
    if not (explicit or patterns or getattr(args, "all_contexts", False)):
        raise SelectionError("say which clusters: --context C (repeatable), --match 'GLOB' or --all-contexts; "
                             f"this kubeconfig has: {_listing(available)}")
    unknown = [n for n in explicit if n not in available]
    if unknown:
        raise SelectionError(f"no context named {', '.join(unknown)} in the kubeconfig; it has: {_listing(available)}")
    chosen = list(dict.fromkeys(explicit))
    for name in available:
        if getattr(args, "all_contexts", False) or any(fnmatch.fnmatchcase(name, p) for p in patterns):
            if name not in chosen:
                chosen.append(name)
    if not chosen:
        raise SelectionError(f"--match {' '.join(patterns)} matches no context; the kubeconfig has: {_listing(available)}")
    return chosen


def _listing(names: list[str]) -> str:
    if not names:
        return "(no contexts)"
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def allowed_production(args) -> set[str]:
    """Context names passed with --allow-production, before or after the subcommand."""
    names = set(getattr(args, "allow_productions", None) or [])
    if getattr(args, "allow_production", None):
        names.add(args.allow_production)
    return names


def show_and_confirm(out, clusters: list[FleetCluster], action: str, *, yes: bool, explain: str = "",
                     allow: set[str] | frozenset = frozenset()) -> None:
    """Print the clusters `action` will touch (and `explain`: what it does to each); ask unless
    --yes (no terminal and no --yes: refuse). A production-looking context is acted on only when
    --allow-production names it exactly or its name is typed — --yes does not confirm it."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{action}: {len(clusters)} cluster(s)")
    for col in ("#", "context", "API server", "note"):
        table.add_column(col)
    for i, c in enumerate(clusters, 1):
        note = "[bold red]⚠ looks like production[/]" if c.looks_like_production else ""
        table.add_row(str(i), escape(c.context), escape(c.server), note)
    out.print(table)
    risky = [c.context for c in clusters if c.looks_like_production]
    if risky:
        out.print(f"[bold red]⚠ Warning:[/] {escape(', '.join(risky))} look(s) like production. "
                  "Fleet commands are meant for lab clusters.")
    if explain:
        out.print(explain)
    production_guard(out, [c for c in clusters if c.looks_like_production and c.context not in allow], action)
    if yes:
        return
    if not sys.stdin.isatty():
        raise SelectionError(f"{action} changes {len(clusters)} cluster(s) and there is no terminal to ask on; "
                             "check the list above and add --yes to go ahead")
    from rich.prompt import Confirm

    if not Confirm.ask(f"{action} on these {len(clusters)} cluster(s)?", default=False, console=out):
        raise SelectionError("nothing done (not confirmed)", code=0)


def production_guard(out, risky: list[FleetCluster], action: str) -> None:
    """Refuse (exit 2, nothing done) unless each production-looking context's name is typed."""
    from rich.markup import escape

    if not risky:
        return
    names = ", ".join(c.context for c in risky)
    flags = " ".join(f"--allow-production {c.context}" for c in risky)
    if not sys.stdin.isatty():
        raise SelectionError(f"{names} look(s) like production and --yes does not confirm that; nothing was "
                             f"done. To {action} there anyway add {flags}, or leave them out of the selection")
    for c in risky:
        out.print(f"Type the context name ({escape(c.context)}) to {escape(action)} on it anyway: ", end="")
        if sys.stdin.readline().strip() != c.context:
            raise SelectionError(f"{c.context} was not confirmed; nothing was done")
