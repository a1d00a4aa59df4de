"""Your own terminal: the export line that makes every shown command work in the learner's shell."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static


class ShellEnvModal(ModalScreen[None]):
    """Shows `export KUBECONFIG=… PATH=…`, the file that holds it and `gateway-tutorial shell`."""

    BINDINGS = [Binding("escape,enter,exclamation_mark", "close", "Close"),
                Binding("y", "copy", "Copy again")]

    def __init__(self, setup, copied: bool):
        super().__init__()
        self.setup, self.copied = setup, copied

    def compose(self) -> ComposeResult:
        s = self.setup
        with Vertical(id="dialog", classes="shell-env"):
            yield Label(Content.from_markup("[b]Your own terminal[/b]"), id="dialog-title")
            with VerticalScroll(id="dialog-scroll"):
                yield Static(Content(f"Every command this tutorial shows (context {s.context}) works in a "
                                     "shell set up with this line:"))
                yield Static(Content(s.export_line), classes="command", id="export-line")
                yield Static(Content(self._where()), id="shell-copied")
                yield Static(Content(f". {s.env_file}"), classes="command", id="env-file")
                yield Static(Content("Or open a shell set up for you (its prompt says "
                                     f"{'SANDBOX' if s.embedded else s.context}):"))
                yield Static(Content(s.shell_command), classes="command", id="shell-command")
                if s.embedded:
                    yield Static(Content("The sandbox answers while this tutorial (or that shell) runs."),
                                 classes="dialog-note")
        yield Footer()

    def _where(self) -> str:
        sent = ("Sent to your terminal's clipboard — if it ignores clipboard requests, nothing was "
                "copied; the same line is in this file, to source:") if self.copied else \
            "The same line is in this file, to source:"
        return sent

    def on_mount(self) -> None:
        self.query_one("#dialog-scroll").focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.setup.export_line)
        self.notify("Sent to the terminal's clipboard (some terminals ignore it); the file has it too.")

    def action_close(self) -> None:
        self.dismiss(None)
