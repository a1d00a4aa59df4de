"""`gateway-tutorial map`: the north/south path from live cluster state, and where it breaks.

A vertical chain (client -> Gateway -> Service -> pods -> listener -> route -> backend -> pods),
each hop with a symbol and a word; below it, the explanation of every break. --json prints the
model, --watch follows the cluster through watches. Narrow terminals get a flat list.
"""

from __future__ import annotations

import argparse

NARROW = 60  # below this many columns the chain becomes a flat list
COLOURS = {"ok": "green", "pending": "cyan", "warn": "yellow", "broken": "red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the map as JSON")
    parser.add_argument("--watch", action="store_true", help="follow the cluster live until Ctrl-C")
    parser.add_argument("--gateway", metavar="NS/NAME", help="draw only this Gateway's path")


def run(args: argparse.Namespace) -> int:
    from tutorial.commands._common import CommandFailed, fail, open_engine
    from tutorial.exitcodes import EXIT_USAGE

    if args.gateway and "/" not in args.gateway:
        return fail(CommandFailed(f"--gateway {args.gateway}: write it as NAMESPACE/NAME, "
                                  "e.g. --gateway istio-ingress/emojivoto", EXIT_USAGE))
    try:
        engine = open_engine(args)
    except CommandFailed as exc:
        return fail(exc)
    try:
        return _watch(engine, args) if args.watch else _once(engine, args)
    except KeyboardInterrupt:
        return 0 if args.watch else 130
    finally:
        engine.close()


def _once(engine, args) -> int:
    import json

    from tutorial.cluster.client import ClusterError
    from tutorial.commands._common import CommandFailed, fail
    from tutorial.commands._render import console
    from tutorial.engine.trafficmap import traffic_map
    from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_UNREACHABLE

    try:
        tmap = only_gateway(traffic_map(engine), args.gateway)
    except ClusterError as exc:
        return fail(CommandFailed(f"cannot read the cluster: {exc}\nCheck that it answers "
                                  "(`kubectl cluster-info`), or add --sandbox.", EXIT_UNREACHABLE))
    if args.json:
        print(json.dumps(tmap.to_json(), indent=2))
    else:
        out = console()
        out.print(render(tmap, out.width, context=_where(engine)))
    return EXIT_CHECK_FAILED if tmap.state == "broken" else 0


def _watch(engine, args) -> int:
    """Redraw on every change the watches report; Ctrl-C ends it. Piped output gets one map per change."""
    import contextlib
    import threading

    from rich.live import Live

    from tutorial.commands._render import console
    from tutorial.engine.trafficmap import cluster_info, follow

    out = console()
    cancel = threading.Event()
    live = Live(console=out, auto_refresh=False) if out.is_terminal else None

    def show(tmap):
        view = render(only_gateway(tmap, args.gateway), out.width, context=_where(engine),
                      compact=True, footer="watching the cluster · Ctrl-C to stop")
        if live is not None:
            live.update(view, refresh=True)
        else:
            out.print(view)
            out.print("─" * min(out.width, 40))
            out.file.flush()

    def trouble(exc):
        from rich.markup import escape

        out.print(f"[yellow]?[/] no answer from the cluster: {escape(str(exc))} — trying again")

    with live if live is not None else contextlib.nullcontext():
        worker = threading.Thread(target=follow, args=(engine.client, show, cancel),
                                  kwargs={"cluster": cluster_info(engine), "on_error": trouble}, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.5)
        finally:
            cancel.set()
    return 0


def only_gateway(tmap, wanted: str | None):
    """The map with only the Gateway NS/NAME under the client (routes attached nowhere stay)."""
    if wanted:
        tmap.root.children = [g for g in tmap.root.children if g.id == f"gateway/{wanted}"]
        if not tmap.root.children:
            tmap.notes.append(f"No Gateway {wanted} in the cluster.")
    return tmap


# -- rendering ------------------------------------------------------------------------

def mark(state: str) -> str:
    from tutorial.engine.trafficmap import MARKS

    symbol, _ = MARKS.get(state, ("?", state))
    return f"[{COLOURS.get(state, 'white')}]{symbol}[/]"


def render(tmap, width: int, *, context: str | None = None, compact: bool = False, footer: str = ""):
    """The whole map as one rich renderable: header, chain (or list), attached-nowhere, explanations."""
    from rich.console import Group
    from rich.markup import escape
    from rich.text import Text

    from tutorial.engine.trafficmap import MARKS

    narrow = width < NARROW
    state = tmap.state
    head = f"[bold]Traffic map[/]" + (f" · {escape(context)}" if context else "")
    head += f" · {mark(state)} {MARKS[state][1] if state != 'ok' else 'whole path healthy'}"
    parts: list = [head]
    parts += [f"[yellow]![/] {escape(n)}" for n in tmap.notes]
    if tmap.root.children:
        parts += flat(tmap.root) if narrow else chain(tmap.root)
    if tmap.unattached:
        parts.append("[bold]Attached nowhere[/] (objects you created that no Gateway took):")
        for node in tmap.unattached:
            parts += flat(node, indent=1) if narrow else chain(node, indent=1)
    parts += explanations(tmap, compact=compact)
    if footer:
        parts.append(f"[dim]{escape(footer)}[/]")
    return Group(*[Text.from_markup(p) if isinstance(p, str) else p for p in parts])


def _node_line(node, indent: int) -> str:
    from rich.markup import escape

    word = f"{mark(node.state)} {escape(node.word)}"
    return f"{' ' * indent}[bold]{escape(node.title)}[/]  {word}"


def chain(node, indent: int = 0) -> list[str]:
    """Node, its details, then an arrow with the link's state into each child; branches indent."""
    from rich.markup import escape

    lines = [_node_line(node, indent)]
    lines += [f"{' ' * (indent + 4)}[dim]{escape(d)}[/]" for d in node.detail]
    step = 2 if len(node.children) > 1 else 0
    for child in node.children:
        link = child.link
        word = f"{mark(link.state)} {escape(link.word)}" if link else ""
        lines.append(f"{' ' * (indent + step + 2)}▼ {word}")
        lines += chain(child, indent + step)
    return lines


def flat(node, indent: int = 0) -> list[str]:
    """Narrow terminals: one line per hop, the incoming link's word in brackets, no details."""
    from rich.markup import escape

    lines = []
    for hop in node.walk():
        via = f" [dim]({escape(hop.link.word)})[/]" if hop.link and hop.link.state != "ok" else ""
        lines.append(f"{' ' * indent}{mark(hop.worst)} {escape(hop.title)}: {escape(hop.word)}{via}")
    return lines


def explanations(tmap, *, compact: bool = False) -> list[str]:
    """For each break (once per explanation): what, why, how to fix, the command to run."""
    from rich.markup import escape

    lines, seen = [], set()
    for node in tmap.problems():
        expl = node.explanation
        if not expl or (expl["rule"], expl["title"]) in seen:
            continue
        seen.add((expl["rule"], expl["title"]))
        where = node.link.word if node.link and node.link.state != "ok" else node.word
        lines.append(f"{mark(node.worst)} [bold]{escape(node.title)}[/] ({escape(where)}): {escape(expl['title'])}")
        if not compact:
            lines.append(f"    [dim]why:[/] {escape(expl['why'])}")
            lines.append(f"    [dim]fix:[/] {escape(expl['fix'])}")
        if expl.get("fix_command"):
            lines.append(f"    [dim]run:[/] {escape(' '.join(expl['fix_command']))}")
    return lines


def _where(engine) -> str:
    """The context, labelled when it is the simulated sandbox."""
    target = engine.target
    if target.embedded:
        return "SANDBOX (simulated cluster)"
    return f"{target.context} (SANDBOX: simulated)" if target.sandbox else target.context
