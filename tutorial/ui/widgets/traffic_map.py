"""The traffic map as a selectable chain (one line per hop, one per arrow) and the explanation box.

Fed a tutorial.engine.trafficmap.TrafficMap; knows nothing about clusters. Every state shows a
symbol and a word, never colour alone.
"""

from __future__ import annotations

from textual.content import Content
from textual.markup import escape
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

MARKS = {"ok": ("✔", "ok", "$success"), "pending": ("…", "pending", "$accent"),
         "warn": ("!", "warning", "$warning"), "broken": ("✘", "broken", "$error")}


def mark(state: str) -> str:
    symbol, _, colour = MARKS.get(state, ("?", state, "$foreground"))
    return f"[{colour}]{symbol}[/]"


def chain_lines(node, indent: int = 0) -> list[tuple[str, str]]:
    """(option id, markup) for a node, its details and the arrow into each child; branches indent."""
    pad = " " * indent
    lines = [(node.id, f"{pad}{mark(node.state)} [b]{escape(node.title)}[/b]  {escape(node.word)}")]
    lines += [(node.id, f"{pad}    [dim]{escape(d)}[/dim]") for d in node.detail]
    step = 2 if len(node.children) > 1 else 0
    for child in node.children:
        if child.link is not None:
            lines.append((f"link:{child.id}", f"{' ' * (indent + step + 2)}▼ {mark(child.link.state)} "
                                              f"{escape(child.link.word)}"))
        lines += chain_lines(child, indent + step)
    return lines


def map_lines(tmap) -> list[tuple[str, str]]:
    """The whole map: notes, the chain from the client, then what attaches nowhere."""
    problems = len(tmap.problems())
    if tmap.state == "ok":
        head = "whole path healthy"
    elif problems:
        head = f"{MARKS[tmap.state][1]}: {problems} hop(s) need attention (b jumps to the next)"
    else:
        head = "no path yet"
    lines = [("head", f"{mark(tmap.state)} [b]{escape(head)}[/b]")]
    lines += [("note", f"[$warning]![/] {escape(n)}") for n in tmap.notes]
    if tmap.root.children:
        lines += chain_lines(tmap.root)
    if tmap.unattached:
        lines.append(("unattached", "[b]Attached nowhere[/b] (created, but no Gateway took it)"))
        for node in tmap.unattached:
            lines += chain_lines(node, 1)
    return lines


class TrafficMapView(OptionList):
    """The chain; highlighting a hop or an arrow tells the screen which node to explain."""

    DEFAULT_CSS = """
    TrafficMapView, TrafficMapView:focus { height: 1fr; border: none; padding: 0; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tmap = None
        self.node_ids: list[str] = []
        self._problem_ids: set[str] = set()

    def show_map(self, tmap) -> None:
        """Redraw, keeping the highlighted hop unless a new problem appeared (then go to it)."""
        keep = self.node_ids[self.highlighted] if self.highlighted is not None and self.node_ids else None
        problems = [n.id for n in tmap.problems()]
        new = [p for p in problems if p not in self._problem_ids]
        self.tmap, self._problem_ids = tmap, set(problems)
        lines = map_lines(tmap)
        self.node_ids = [ident for ident, _ in lines]
        self.clear_options()
        self.add_options([Option(Content.from_markup(text)) for _, text in lines])
        if keep in self.node_ids and keep not in ("head", "note", "unattached") and not new:
            self.highlighted = self.node_ids.index(keep)
        else:
            first = (new or problems or ["client"])[0]
            self.highlighted = self.node_ids.index(first) if first in self.node_ids else 0

    def node_at(self, index: int | None):
        """The map node behind line `index` (an arrow line means the node it points to)."""
        if self.tmap is None or index is None or index >= len(self.node_ids):
            return None
        ident = self.node_ids[index]
        return self.tmap.find(ident.removeprefix("link:"))

    def next_problem(self) -> bool:
        """Move to the next hop that is not ok (wrapping); False if there is none."""
        if self.tmap is None:
            return False
        wanted = {n.id for n in self.tmap.problems()}
        start = (self.highlighted or 0) + 1
        order = list(range(start, len(self.node_ids))) + list(range(0, start))
        for i in order:
            if self.node_ids[i] in wanted and (i == 0 or self.node_ids[i - 1] != self.node_ids[i]):
                self.highlighted = i
                return True
        return False


class ExplanationBox(Static):
    """What is wrong with the highlighted hop, why, and the fix (or that it is fine)."""

    DEFAULT_CSS = """
    ExplanationBox { height: auto; max-height: 50%; border-top: solid $primary; padding: 0 1; }
    """

    def explain(self, node) -> None:
        self.update(Content.from_markup(explanation_markup(node)))


def explanation_markup(node) -> str:
    if node is None:
        return "[dim]Move to a hop or an arrow to see how it is doing.[/dim]"
    where = node.link.word if node.link is not None and node.link.state != "ok" else node.word
    head = f"{mark(node.worst)} [b]{escape(node.title)}[/b] · {escape(where)}"
    expl = node.explanation
    if node.worst == "ok" or expl is None:
        tail = "Traffic passes here." if node.worst == "ok" else "No explanation for this state yet."
        return f"{head}\n{tail}"
    # The fix first: at 80x24 the end of a long "why" may be cut, the command must not be.
    lines = [head, f"[b]{escape(expl['title'])}[/b]", f"[dim]fix:[/dim] {escape(expl['fix'])}"]
    if expl.get("fix_command"):
        lines.append(f"[dim]run:[/dim] {escape(' '.join(expl['fix_command']))}")
    lines.append(f"[dim]why:[/dim] {escape(expl['why'])}")
    return "\n".join(lines)
