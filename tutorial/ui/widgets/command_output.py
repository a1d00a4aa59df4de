"""Streamed output of the commands a step runs, with a status line above it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, RichLog


class CommandOutput(Vertical):
    """A log of what ran and what it printed; hidden until something runs.

    Long lines wrap (a narrow terminal still shows all of them); tab focuses the log so the
    arrow keys and page keys scroll it, and its title says so.
    """

    def compose(self) -> ComposeResult:
        yield Label("", id="output-status")
        yield RichLog(id="output-log", max_lines=2000, wrap=True, min_width=20, markup=False, highlight=False)

    def on_mount(self) -> None:
        self.display = False
        self._lines: list[str] = []
        self.border_title = "output · tab, then ↑↓ scroll"

    def begin(self, heading: str) -> None:
        self.display = True
        self._lines = []
        self.query_one(RichLog).clear()
        self.status(heading)

    def status(self, text: str) -> None:
        self.query_one("#output-status", Label).update(Content(text))

    def command(self, display: str) -> None:
        first, *rest = display.splitlines() or [""]
        more = f"   (+{len(rest)} lines of stdin)" if rest else ""
        self.write(f"$ {first}{more}")

    def write(self, line: str) -> None:
        from rich.text import Text

        self._lines.append(line)
        self.query_one(RichLog).write(Text(line))

    @property
    def lines(self) -> list[str]:
        return list(self._lines)
