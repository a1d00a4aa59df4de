"""The top bar: which context and server commands hit, with a SANDBOX badge when simulated."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, Static

from tutorial.ui.backend import REAL_CLUSTER_HINT


class ClusterBar(Static):
    """Context and server of the cluster in use; a badge and a how-to line for the sandbox."""

    context: reactive[str] = reactive("connecting…")
    server: reactive[str] = reactive("")
    sandbox: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        with Horizontal(id="cluster-line"):
            yield Label("Gateway API tutorial", id="app-title")
            yield Label("connecting to the cluster…", id="cluster-target")
            yield Label(" SANDBOX ", id="sandbox-badge")
        yield Label(REAL_CLUSTER_HINT, id="sandbox-hint")

    def show(self, context: str, server: str, sandbox: bool) -> None:
        self.context, self.server, self.sandbox = context, server, sandbox

    def watch_context(self) -> None:
        self._update_target()

    def watch_server(self) -> None:
        self._update_target()

    def watch_sandbox(self, sandbox: bool) -> None:
        self.set_class(sandbox, "-sandbox")

    def _update_target(self) -> None:
        if not self.is_mounted:
            return
        where = f"  →  {self.server}" if self.server else ""
        self.query_one("#cluster-target", Label).update(f"context {self.context}{where}")

    def on_mount(self) -> None:
        self._update_target()
