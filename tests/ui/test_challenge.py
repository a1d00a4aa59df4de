"""A break-and-fix challenge in the TUI: r breaks the finished lab and says "something broke",
the checks watch (do it yourself), the learner repairs it in their own shell (simulated: sh with
the TUI's shell setup, real kubectl) and the step turns done with no key pressed. Snapshots of a
challenge at 80x24 and 120x40."""

from __future__ import annotations

import pytest

from tests.ui.conftest import drive, until, needs_kubectl, type_in_learners_shell
from tests.ui.test_snapshots import opened

TARGET = "troubleshooting/web-scaled-down"


@pytest.fixture(autouse=True)
def _kubectl():
    needs_kubectl()


def test_challenge_breaks_the_lab_and_passes_when_the_learner_repairs_it(build, tmp_path):
    app = build("--sandbox")

    async def scenario(pilot):
        for _, step in app.engine.steps("..reach-the-app"):
            assert app.engine.run_step(step, solve=True).ok, step.target
        app.open_step(TARGET)
        await pilot.pause()
        assert not app.screen.query("ManifestView")  # the cause is not shown
        await pilot.press("r")
        # not finished(): after the break the do-it-yourself watcher keeps running by design
        # the final word ("Something broke: <symptom>"), not the running label ("Running: Something broke")
        await until(pilot, lambda: "Something broke: " in str(app.screen.query_one("#output-status").render()),
                    timeout=60)
        status = str(app.screen.query_one("#output-status").render())
        assert "Something broke: The app answers 503" in status, status
        await until(pilot, lambda: bool(app.screen.query("#diy-banner")), timeout=10)
        assert app.engine.progress.get(TARGET).state == "todo"
        type_in_learners_shell(app, "kubectl scale deployment/web -n emojivoto --replicas=1", tmp_path)
        # no key pressed from here on: the watching checks see the path work again
        await until(pilot, lambda: app.engine.progress.get(TARGET).state == "done", timeout=90)
        await until(pilot, lambda: not app.screen.query("#diy-banner"), timeout=10)
        assert "All checks passed" in str(app.screen.query_one("#output-status").render())

    drive(app, scenario)


def test_the_last_build_step_offers_the_recap_and_the_challenges(build):
    app = build("--sandbox")

    async def scenario(pilot):
        app.open_step("reach-the-app/browse")
        await pilot.pause()
        assert "R shows the recap; n goes on to the troubleshooting challenges" in app.screen._next_words()

    drive(app, scenario)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_challenge(snap_compare, build, size):
    assert snap_compare(build("--sandbox"), terminal_size=size, run_before=opened(TARGET))
