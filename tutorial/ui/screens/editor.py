"""Write it yourself: the step's YAML in an editor (TextArea with YAML highlighting, or $EDITOR).

ctrl+s keeps your version (per cluster) and, after saying what the API server would refuse and
what each change from the blog's manifest does, asks whether to apply it: the step then runs with
your YAML. ctrl+e opens the file in $EDITOR; ctrl+r goes back to the blog's manifest.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, TextArea

from tutorial.ui.widgets.cluster_bar import ClusterBar


class DifferencesRead(Message):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines


class EditorScreen(Screen):
    """Edit one manifest of the step; dismisses with True when the learner chose to apply it."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save & apply", priority=True),
        Binding("ctrl+e", "external", "$EDITOR", priority=True),
        Binding("ctrl+r", "revert", "Blog's version", priority=True),
        Binding("escape", "back", "Back (keeps draft)"),
    ]

    def __init__(self, step, manifest_id: str):
        super().__init__()
        self.step, self.manifest_id = step, manifest_id

    def compose(self) -> ComposeResult:
        from tutorial.engine import mine

        engine = self.app.engine
        title = self.step.manifest(self.manifest_id).title or self.manifest_id
        yours = mine.load(engine, self.step, self.manifest_id)
        whose = "your version" if yours is not None else "the blog's manifest (not changed yet)"
        yield ClusterBar()
        yield Label(Content.from_markup("[b]Write it yourself[/b] · $t · $w", t=title, w=whose), id="step-heading")
        area = TextArea.code_editor(yours if yours is not None else self.step.manifest(self.manifest_id).text,
                                    language=self._language(), id="yaml-editor")
        yield area
        yield Label("", id="editor-note")
        yield Footer()

    def _language(self) -> str | None:
        try:  # YAML highlighting needs textual[syntax] (tree-sitter); plain text without it
            import tree_sitter_yaml  # noqa: F401
        except ImportError:
            return None
        return "yaml"

    def on_mount(self) -> None:
        self.app.update_cluster_bars()
        self.query_one(TextArea).focus()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _keep(self) -> str:
        from tutorial.engine import mine

        return str(mine.save(self.app.engine, self.step, self.manifest_id, self.text))

    def action_save(self) -> None:
        path = self._keep()
        self.query_one("#editor-note", Label).update(f"Saved in {path}. Comparing with the blog's manifest…")
        self._compare(self.text)

    @work(thread=True, exclusive=True, group="differences")
    def _compare(self, text: str) -> None:
        from tutorial.engine.mine import differences

        self.post_message(DifferencesRead(differences(self.app.engine, self.step, self.manifest_id, text)))

    @on(DifferencesRead)
    def _ask(self, message: DifferencesRead) -> None:
        from tutorial.ui.screens.modals import ConfirmModal

        refused = any(line.startswith("✘") for line in message.lines)
        body = ("The API server would refuse your version; fix it first (nothing was applied):" if refused else
                "Your version differs from the blog's like this. Apply it (the step runs with your YAML)?")
        self.query_one("#editor-note", Label).update("✘ Not applied: see the refusal." if refused else "")

        def answered(yes: bool | None) -> None:
            if yes and not refused:
                self.dismiss(True)

        self.app.push_screen(ConfirmModal("Your version", body, message.lines,
                                          yes="Apply" if not refused else "Close", prefix=""), answered)

    def action_external(self) -> None:
        """Open the saved file in $EDITOR (vi when unset); the editor shows what it saved."""
        from tutorial.engine import mine

        path = self._keep()
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        from textual.app import SuspendNotSupported

        try:
            with self.app.suspend():
                subprocess.call([*shlex.split(editor), path])
        except SuspendNotSupported:  # no terminal to hand over (a GUI editor with --wait still works)
            subprocess.call([*shlex.split(editor), path], stdin=subprocess.DEVNULL)
        text = mine.load(self.app.engine, self.step, self.manifest_id) or ""
        self.query_one(TextArea).load_text(text)
        self.query_one("#editor-note", Label).update(f"Read back from {path} after {editor}.")

    def action_revert(self) -> None:
        from tutorial.engine import mine

        mine.forget(self.app.engine, self.step, self.manifest_id)
        self.query_one(TextArea).load_text(self.step.manifest(self.manifest_id).text)
        self.query_one("#editor-note", Label).update("Back to the blog's manifest; your version is deleted.")

    def action_back(self) -> None:
        self._keep() if self.text != self.step.manifest(self.manifest_id).text else None
        self.dismiss(False)
