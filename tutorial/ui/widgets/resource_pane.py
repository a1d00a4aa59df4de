"""The live resource pane: the lesson's pods, Deployments, Gateways and HTTPRoutes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

ORDER = ("deploy", "pod", "gateway", "route")


class ResourcePane(VerticalScroll):
    """Objects grouped by namespace, one wrapped line each, kept current by watch workers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rows: dict[str, list[dict]] = {}
        self._problems: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label(Content.from_markup("[b]Live resources[/b] (w hides)"), id="resources-title")
        yield Static("Watching the cluster…", id="resources-list")
        yield Static("", id="resources-note")

    def update_kind(self, label: str, rows: list[dict], problem: str | None) -> None:
        self._rows[label] = rows
        if problem:
            self._problems[label] = problem
        else:
            self._problems.pop(label, None)
        self.query_one("#resources-list", Static).update(self.render_rows())
        self.query_one("#resources-note", Static).update(Content("\n".join(self._problems.values())))

    def render_rows(self) -> Content:
        by_namespace: dict[str, list[dict]] = {}
        for label in ORDER:
            for row in self._rows.get(label, []):
                by_namespace.setdefault(row["namespace"], []).append(row)
        if not by_namespace:
            return Content("Nothing from the lessons yet.")
        lines = []
        for namespace in sorted(by_namespace):
            lines.append(Content.styled(namespace or "(cluster)", "bold"))
            for row in by_namespace[namespace]:
                lines.append(Content.assemble(f"  {row['kind']:<7} ", (row["name"], "bold"), f"  {row['status']}"))
        return Content("\n").join(lines)

    @property
    def names(self) -> list[str]:
        return [f"{r['namespace']}/{r['name']}" for rows in self._rows.values() for r in rows]
