"""Write it yourself in the TUI: E opens the step's YAML in a TextArea (YAML highlighting); ctrl+s
says what differs from the blog's manifest and what it does, then applies the learner's version;
it is kept per cluster, so a new session (resume) shows it again. $EDITOR works too."""

from __future__ import annotations

import os
import stat

import pytest

from tests.ui.conftest import drive, finished, ready, run, until
from tests.ui.test_snapshots import settle
from tutorial.ui.screens.editor import EditorScreen
from tutorial.ui.screens.modals import ConfirmModal

ROUTE = "httproute/apply-route"


def _solve_until_route(app) -> None:
    for _, step in app.engine.steps("..gateway/apply-gateway"):
        assert app.engine.run_step(step, solve=True).ok, step.target


def test_edit_compare_apply_and_resume(build):
    app = build("--sandbox")

    async def scenario(pilot):
        _solve_until_route(app)
        app.open_step(ROUTE)
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen)
        area = app.screen.query_one("#yaml-editor")
        assert area.language == "yaml"
        area.load_text(area.text.replace("name: emojivoto\n  namespace: emojivoto",
                                         "name: mine\n  namespace: emojivoto"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), timeout=30)
        lines = app.screen.commands
        assert any("metadata.name: the blog has 'emojivoto', yours 'mine'" in l for l in lines), lines
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (ConfirmModal, EditorScreen)), timeout=10)
        await finished(pilot)
        assert app.engine.client.get(app.engine.client.resource("gateway.networking.k8s.io/v1", "HTTPRoute"),
                                     "emojivoto", "mine") is not None  # your version was applied
        shown = [str(w.render()) for w in app.screen.query(".command")]
        assert any("name: mine" in s for s in shown), shown  # and it is what the step shows

    drive(app, scenario)
    again = build("--sandbox")

    async def resume():
        async with again.run_test(size=(100, 32)) as pilot:
            await ready(pilot)
            again.open_step(ROUTE)
            await pilot.pause()
            await pilot.press("E")
            await pilot.pause()
            assert "name: mine" in again.screen.query_one("#yaml-editor").text

    run(resume())


def test_editor_env_var_edits_the_same_file(build, tmp_path, monkeypatch):
    script = tmp_path / "fake-editor"
    script.write_text("#!/bin/sh\nsed -i 's/port: 80$/port: 8080/' \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)
    app = build("--sandbox")

    async def scenario(pilot):
        _solve_until_route(app)
        app.open_step(ROUTE)
        await pilot.pause()
        await pilot.press("E", "ctrl+e")
        await pilot.pause()
        assert "port: 8080" in app.screen.query_one("#yaml-editor").text
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), timeout=30)
        text = "\n".join(app.screen.commands)
        assert "Service web-svc has no port 8080 (it has 80" in text
        await pilot.press("n")  # not applied: nothing runs
        await pilot.pause()
        assert isinstance(app.screen, EditorScreen)

    drive(app, scenario)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_editor(snap_compare, build, size):
    async def before(pilot):
        await settle(pilot)
        pilot.app.open_step(ROUTE)
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()

    assert snap_compare(build("--sandbox"), terminal_size=size, run_before=before)
