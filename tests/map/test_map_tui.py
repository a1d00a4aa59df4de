"""The traffic map screen: SVG snapshots of a healthy and a broken map (fixed states), and the live
screen on the sandbox following a change (update snapshots with --snapshot-update)."""

from __future__ import annotations

import asyncio
import time

from textual.app import App

from sandboxlab import RT, asset
from mapstates import blog as blog_state, blog_not_allowed
from tutorial.engine.trafficmap import build_map
from tutorial.ui.screens.traffic_map import TrafficMapScreen
from tutorial.ui.widgets.traffic_map import ExplanationBox, TrafficMapView, explanation_markup

TITLE = "Traffic map · context sandbox"


class MapApp(App):
    """Just the map screen, on a fixed map or (with an engine) on a live cluster."""

    def __init__(self, model=None, engine=None):
        super().__init__()
        self.model, self.engine = model, engine

    def on_mount(self) -> None:
        self.push_screen(TrafficMapScreen(self.model, title=TITLE))


def test_snapshot_healthy_map(snap_compare):
    assert snap_compare(MapApp(build_map(blog_state(), {"context": "sandbox", "sandbox": True})),
                        terminal_size=(80, 24))


def test_snapshot_broken_map_shows_its_explanation(snap_compare):
    assert snap_compare(MapApp(build_map(blog_not_allowed(), {"context": "sandbox", "sandbox": True})),
                        terminal_size=(80, 24))


def test_broken_map_opens_on_the_break_and_b_cycles():
    tmap = build_map(blog_not_allowed(), {"context": "sandbox", "sandbox": True})

    async def scenario():
        app = MapApp(tmap)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            view = app.screen.query_one(TrafficMapView)
            node = view.node_at(view.highlighted)
            assert node.kind == "route" and node.link.word == "NotAllowedByListeners"
            box = str(app.screen.query_one(ExplanationBox).render())
            assert "only accepts routes from its own namespace" in box
            await pilot.press("up")  # the arrow into the route explains the same break
            assert view.node_ids[view.highlighted] == f"link:{node.id}"
            await pilot.press("home")
            assert "Traffic passes here." in str(app.screen.query_one(ExplanationBox).render()) or \
                view.node_at(view.highlighted) is None
            await pilot.press("b")
            assert view.node_at(view.highlighted).id == node.id

    asyncio.run(scenario())


def test_explanation_text_for_a_healthy_hop():
    tmap = build_map(blog_state())
    assert "Traffic passes here." in explanation_markup(tmap.root.children[0])


def test_live_screen_follows_the_cluster(blog):
    async def scenario():
        app = MapApp(engine=blog.engine)
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.screen.query_one(TrafficMapView)
            await _until(pilot, lambda: view.tmap is not None and view.tmap.state == "ok")
            await asyncio.to_thread(blog.kubectl, "delete", RT, "emojivoto", "-n", "emojivoto")
            await _until(pilot, lambda: any(n.kind == "listener" and not n.children for n in view.tmap.nodes()))
            node = view.node_at(view.highlighted)
            assert node.kind == "listener" and node.state == "warn"
            await pilot.press("escape")
            assert not isinstance(app.screen, TrafficMapScreen)  # closing it stops the follower

    try:
        asyncio.run(scenario())
    finally:
        blog.apply(asset("httproute.yaml"))
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].status}=True", f"{RT}/emojivoto", "-n", "emojivoto")


async def _until(pilot, predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the map never showed the expected state"
        await pilot.pause(0.05)


def test_screen_inside_the_tutorial_app_on_an_empty_sandbox(tmp_path, monkeypatch):
    """Pushed on the real TutorialApp (as its binding will do): a bare cluster says the Gateway API
    CRDs are missing, and q still quits (the follower's cancel is tracked by the app)."""
    from tutorial.cli import build_parser
    from tutorial.commands.tui import make_app

    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    app = make_app(build_parser().parse_args(["--sandbox"]))

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await _until(pilot, lambda: app.engine is not None)
            app.push_screen(TrafficMapScreen())
            await pilot.pause()
            view = app.screen.query_one(TrafficMapView)
            await _until(pilot, lambda: view.tmap is not None)
            assert view.tmap.notes and "Gateway API CRDs are not installed" in view.tmap.notes[0]
            await pilot.press("q")
        assert app.return_code in (0, None)

    asyncio.run(scenario())
