"""The TUI on every unreadable progress file of issue 19: it starts, says plainly what happened
(where the file went, that the recorded progress was not kept) and stays usable."""

from __future__ import annotations

import json

import pytest

from progress_forms import FORMS, aside, plant
from tests.ui.conftest import SIZE, finished, ready, run, until
from tutorial.engine.progress import ProgressStore
from tutorial.engine.target import SANDBOX_IDENTITY
from tutorial.ui.screens.lessons import LessonsScreen
from tutorial.ui.screens.modals import ErrorModal
from tutorial.ui.screens.step import StepScreen


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_tui_starts_says_what_happened_and_stays_usable(build, state_dir, form):
    path = ProgressStore.for_cluster("sandbox", SANDBOX_IDENTITY, state_dir=state_dir).path
    plant(path, form)
    app = build("--sandbox")

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert not isinstance(app.screen, ErrorModal)
            assert isinstance(app.screen, LessonsScreen)
            notice = " ".join(str(app.screen.query_one("#notice").render()).split())
            (moved,) = aside(path)
            assert str(path) in notice and f"moved to {moved}" in notice, notice
            assert "not kept" in notice, notice
            assert app.engine.progress.all() == {}
            await pilot.press("enter")  # the first step opens, and what the learner does is recorded
            await until(pilot, lambda: isinstance(app.screen, StepScreen))
            target = app.screen.step.target
            await pilot.press("k")
            await finished(pilot)
            assert app.engine.progress.get(target).state == "skipped"
            await pilot.press("q")

    run(scenario())
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == 1 and doc["steps"][next(iter(doc["steps"]))]["state"] == "skipped"
    assert len(aside(path)) == 1  # moved aside once, not again by the engine's own read


@pytest.mark.parametrize("form", ["utf16", "directory"])
def test_a_file_that_becomes_unreadable_while_the_tui_runs_is_said_and_it_goes_on(build, state_dir, form):
    app = build("--sandbox")

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            path = app.engine.progress.path
            app.engine.progress.set("before-you-start/cluster", "skipped")
            path.unlink()
            plant(path, form)  # another program wrote it
            await until(pilot, lambda: aside(path), timeout=20)  # the list follows the file every second
            await pilot.pause()
            (moved,) = aside(path)
            notice = " ".join(str(app.screen.query_one("#notice").render()).split())
            assert f"moved to {moved}" in notice and "not kept" in notice, notice
            assert app.engine.progress.all() == {}
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, StepScreen))
            await pilot.press("k")
            await finished(pilot)
            assert len(app.engine.progress.all()) == 1

    run(scenario())
