"""The recap: the finished lab's traffic map, who owns each object and why it is where it is,
the commands the lessons used, and what to try next. A worker reads the cluster once."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, Static

from tutorial.ui.widgets.cluster_bar import ClusterBar


class RecapRead(Message):
    """The worker's result: tutorial.engine.recap.Recap."""

    def __init__(self, recap) -> None:
        super().__init__()
        self.recap = recap


class RecapScreen(Screen):
    """What you built; esc goes back."""

    BINDINGS = [Binding("escape", "back", "Back"), Binding("m", "app.traffic_map", "Live map")]

    def compose(self) -> ComposeResult:
        yield ClusterBar()
        yield Label(Content.from_markup("[b]Recap: what you built[/b]"), id="step-heading")
        with VerticalScroll(id="recap-body"):
            yield Static("Reading the cluster…", id="recap-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.app.update_cluster_bars()
        self.query_one("#recap-body").focus()
        self._read(self.app.engine)

    @work(thread=True, exclusive=True, group="recap", name="recap")
    def _read(self, engine) -> None:
        from tutorial.engine.recap import build

        self.post_message(RecapRead(build(engine)))

    @on(RecapRead)
    async def _show(self, message: RecapRead) -> None:
        r = message.recap
        body = self.query_one("#recap-body", VerticalScroll)
        await body.remove_children()
        parts = [Static(Content(f"{r.done} of {r.total} steps done on this cluster."), id="recap-progress")]
        if r.problem:
            parts.append(Static(Content(r.problem), classes="recap-problem"))
        parts += [Label(Content.from_markup("[b]The path a request takes[/b] (m follows it live)"),
                        classes="part-title"), Static(self._map(r.tmap), id="recap-map")]
        parts += [Label(Content.from_markup("[b]Who owns what, and why it sits there[/b] "
                                            "(the Gateway API role model)"), classes="part-title"),
                  Markdown(self._objects(r), id="recap-objects")]
        parts += [Label(Content.from_markup("[b]The commands you used[/b]"), classes="part-title")]
        parts += [Static(Content(f"$ {c}"), classes="command") for c in r.commands]
        parts += [Label(Content.from_markup("[b]What to try next[/b]"), classes="part-title"),
                  Markdown("\n".join(f"- {n}" for n in r.next_steps), id="recap-next")]
        await body.mount_all(parts)

    def _map(self, tmap) -> Content:
        if tmap is None:
            return Content("(the cluster did not answer; m opens the live map)")
        from tutorial.ui.widgets.traffic_map import map_lines

        return Content.from_markup("\n".join(markup for _, markup in map_lines(tmap)))

    def _objects(self, r) -> str:
        mark = {True: "✔ there", False: "✘ missing", None: "? unknown"}
        rows = [f"- **{o.kind} {o.where}** — {mark[o.present]} · *{o.owner}*: {o.why}" for o in r.objects]
        return "\n".join(rows)

    def action_back(self) -> None:
        self.app.pop_screen()
