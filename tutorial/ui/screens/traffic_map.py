"""The traffic map screen: the live north/south path, with the explanation of the highlighted hop.

A thread worker follows the cluster (tutorial.engine.trafficmap.follow, watch-driven) and posts
each new map; the screen only draws. Given a `model`, it draws that and starts no worker.
"""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList

from tutorial.ui.widgets.traffic_map import ExplanationBox, TrafficMapView


class MapUpdated(Message):
    """A new map from the follower worker."""

    def __init__(self, tmap) -> None:
        super().__init__()
        self.tmap = tmap


class MapTrouble(Message):
    """The cluster did not answer; the worker keeps trying."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class TrafficMapScreen(Screen):
    """client -> Gateway -> Service -> pods -> listener -> route -> backend -> pods, live."""

    DEFAULT_CSS = """
    TrafficMapScreen { layout: vertical; }
    TrafficMapScreen #map-title { height: 1; padding: 0 1; background: $panel; width: 100%; }
    """
    BINDINGS = [
        Binding("b", "next_problem", "Next problem"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, model=None, *, title: str | None = None):
        super().__init__()
        self._model = model
        self._title = title
        self._cancel: threading.Event | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._title or self._default_title(), id="map-title")
        yield TrafficMapView(id="traffic-map")
        yield ExplanationBox(id="map-explanation")
        yield Footer()

    def _default_title(self) -> str:
        engine = getattr(self.app, "engine", None)
        if engine is None:
            where = "no cluster yet"
        else:
            target = engine.target
            where = ("SANDBOX (simulated cluster)" if target.embedded else
                     f"context {target.context}" + (" (SANDBOX: simulated)" if target.sandbox else ""))
        return f"Traffic map · {where} · following the cluster live"

    def on_mount(self) -> None:
        if self._model is not None:
            self._draw(self._model)
            return
        engine = getattr(self.app, "engine", None)
        if engine is None:
            self.query_one(ExplanationBox).update("Still connecting to the cluster; open the map again in a moment.")
            return
        self.query_one(ExplanationBox).update("Reading the cluster…")
        self._cancel = threading.Event()
        track = getattr(self.app, "track_cancel", None)
        if track:
            track(self._cancel)
        self._follow(engine, self._cancel)

    def on_unmount(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            untrack = getattr(self.app, "untrack_cancel", None)
            if untrack:
                untrack(self._cancel)

    @work(thread=True, group="watch", name="traffic-map")
    def _follow(self, engine, cancel: threading.Event) -> None:
        from tutorial.engine.trafficmap import cluster_info, follow

        try:
            follow(engine.client, lambda tmap: self.post_message(MapUpdated(tmap)), cancel,
                   cluster=cluster_info(engine), on_error=lambda exc: self.post_message(MapTrouble(str(exc))))
        except Exception as exc:  # a bug or a cluster we cannot read: say so, keep the screen
            self.post_message(MapTrouble(f"{type(exc).__name__}: {exc}"))

    @on(MapUpdated)
    def _updated(self, message: MapUpdated) -> None:
        self._draw(message.tmap)

    @on(MapTrouble)
    def _trouble(self, message: MapTrouble) -> None:
        self.query_one(ExplanationBox).update(f"? no answer from the cluster: {message.text} (trying again)")

    def _draw(self, tmap) -> None:
        view = self.query_one(TrafficMapView)
        view.show_map(tmap)
        self.query_one(ExplanationBox).explain(view.node_at(view.highlighted))

    @on(OptionList.OptionHighlighted, "#traffic-map")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        view = self.query_one(TrafficMapView)
        self.query_one(ExplanationBox).explain(view.node_at(event.option_index))

    def action_next_problem(self) -> None:
        if not self.query_one(TrafficMapView).next_problem():
            self.notify("Nothing is broken on the path.")

    def action_back(self) -> None:
        self.dismiss()
