"""Dialogs: confirm before running, errors, variant and cluster pickers."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from tutorial.ui.backend import SANDBOX_CHOICE


class ConfirmModal(ModalScreen[bool]):
    """Ask before anything runs: shows exactly what will run; y/enter yes, n/esc no."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, title: str, body: str, commands: list[str], yes: str = "Run", prefix: str = "$ "):
        super().__init__()
        self.title_text, self.body, self.commands, self.yes = title, body, commands, yes
        self.prefix = prefix  # "$ " before shell commands; "" for lines that are not commands (a reset plan)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="confirm"):
            yield Label(Content.from_markup("[b]$t[/b]", t=self.title_text), id="dialog-title")
            yield Static(Content(self.body), id="dialog-body")
            with VerticalScroll(id="dialog-commands"):
                for display in self.commands:
                    yield Static(Content(f"{self.prefix}{display}"), classes="command")
            with Horizontal(id="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="warning")
                yield Button("Cancel (n)", id="no")
        yield Footer()  # the dialog's own keys, not the screen's underneath

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # a stray Enter must not run anything

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ErrorModal(ModalScreen[None]):
    """A problem worded for a person: a title, what happened, what to do next."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, title: str, message: str, fatal: bool = False):
        super().__init__()
        self.title_text, self.message, self.fatal = title, message, fatal

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="error"):
            yield Label(Content.from_markup("[b]✘ $t[/b]", t=self.title_text), id="dialog-title")
            with VerticalScroll(id="dialog-scroll"):
                yield Static(Content(self.message), id="dialog-body")
            with Horizontal(id="dialog-buttons"):
                yield Button("Quit (enter)" if self.fatal else "Close (enter)", id="close", variant="error")
        yield Footer()  # the dialog's own keys, not the screen's underneath

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class FatalErrorModal(ErrorModal):
    """An ErrorModal after which the app ends: its footer says Quit, as its button does."""

    BINDINGS = [Binding("escape,enter", "close", "Quit")]

    def __init__(self, title: str, message: str):
        super().__init__(title, message, fatal=True)


class PickerModal(ModalScreen[str | None]):
    """Pick one of a few choices; enter picks, esc keeps the current one."""

    BINDINGS = [Binding("escape", "dismiss_none", "Keep as is")]

    def __init__(self, title: str, note: str, choices: list[tuple[str, str]], current: str | None):
        super().__init__()
        self.title_text, self.note, self.choices, self.current = title, note, choices, current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="picker"):
            yield Label(Content.from_markup("[b]$t[/b]", t=self.title_text), id="dialog-title")
            yield Static(Content(self.note), id="dialog-body")
            yield OptionList(*[Option(self._prompt(key, text), id=key) for key, text in self.choices],
                             id="picker-options")
        yield Footer()  # the dialog's own keys, not the screen's underneath

    def _prompt(self, key: str, text: str) -> str:
        return f"{'●' if key == self.current else '○'} {text}{'  (current)' if key == self.current else ''}"

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.current is not None:
            try:
                options.highlighted = options.get_option_index(self.current)
            except Exception:
                options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def variant_picker(lesson, current: str | None) -> PickerModal:
    choices = [(v.id, f"{v.title}: {v.summary}" if v.summary else v.title) for v in lesson.variants]
    return PickerModal(f"How to do “{lesson.title}”", "The tutorial remembers your choice for this cluster.",
                       choices, current)


def cluster_picker(contexts: list[tuple[str, str]], current: str | None, problem: str | None) -> PickerModal:
    choices = [(name, f"{name}  →  {server}") for name, server in contexts]
    choices.append((SANDBOX_CHOICE, "The sandbox: a simulated cluster inside this program"))
    note = "Commands and checks go to the cluster you pick; progress is kept per cluster."
    if problem:
        note = f"{note}\n{problem}"
    return PickerModal("Which cluster?", note, choices, current)
