"""Streamed output of the commands a step runs, with a status line above it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Log


class CommandOutput(Vertical):
    """A log of what ran and what it printed; hidden until something runs."""

    def compose(self) -> ComposeResult:
        yield Label("", id="output-status")
        yield Log(id="output-log", max_lines=2000)

    def on_mount(self) -> None:
        self.display = False

    def begin(self, heading: str) -> None:
        self.display = True
        self.query_one(Log).clear()
        self.status(heading)

    def status(self, text: str) -> None:
        self.query_one("#output-status", Label).update(Content(text))

    def command(self, display: str) -> None:
        first, *rest = display.splitlines() or [""]
        more = f"   (+{len(rest)} lines of stdin)" if rest else ""
        self.write(f"$ {first}{more}")

    def write(self, line: str) -> None:
        self.query_one(Log).write_line(line)

    @property
    def lines(self) -> list[str]:
        return list(self.query_one(Log).lines)
