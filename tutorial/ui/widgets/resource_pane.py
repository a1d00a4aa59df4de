"""The live resource pane: the lesson's pods, Deployments, Gateways and HTTPRoutes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label


class ResourcePane(Vertical):
    """A table kept current by watch workers; rows arrive as plain dicts per kind."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rows: dict[str, list[dict]] = {}
        self._problems: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Label("[b]Live resources[/b] (w hides)", id="resources-title")
        yield DataTable(id="resources-table", cursor_type="none", zebra_stripes=True, show_cursor=False)
        yield Label("", id="resources-note")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("kind", "namespace/name", "status")

    def update_kind(self, label: str, rows: list[dict], problem: str | None) -> None:
        self._rows[label] = rows
        if problem:
            self._problems[label] = problem
        else:
            self._problems.pop(label, None)
        self._refresh_table()

    def _refresh_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for label in ("pod", "deploy", "gateway", "route"):
            for row in self._rows.get(label, []):
                table.add_row(row["kind"], f"{row['namespace']}/{row['name']}", row["status"])
        note = "\n".join(self._problems.values())
        if not any(self._rows.values()):
            note = (note + "\n" if note else "") + "Nothing from the lessons yet."
        self.query_one("#resources-note", Label).update(note)

    @property
    def row_count(self) -> int:
        return self.query_one(DataTable).row_count
