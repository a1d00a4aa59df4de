"""Do it yourself: the learner types the shown command in their own shell; the step's checks watch
the cluster and pass without a key pressed. `r` still works; the global preference opens every
step that way. (Typing is simulated: sh with the export line the TUI gives, real kubectl.)"""

from __future__ import annotations

import pytest

from tests.ui.conftest import demo_args, drive, finished, until, needs_kubectl, type_in_learners_shell
from tutorial.ui import backend


@pytest.fixture(autouse=True)
def _kubectl():
    needs_kubectl()


def _classes(app, check_id: str) -> set:
    return set(app.screen.query_one(f"#check-{check_id}").classes)


def test_diy_step_passes_by_itself_when_the_learner_runs_the_shown_command(build, tmp_path):
    app = build(*demo_args())

    async def scenario(pilot):
        app.open_step("demo/namespace")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.query("#diy-banner")
        assert app.engine.progress.get("demo/namespace").state == "todo"
        # a watch round ends before the learner acts: "not yet", never a verdict of failure
        await until(pilot, lambda: "-yours" in _classes(app, "demo-exists"), timeout=30)
        assert "-failed" not in _classes(app, "demo-exists")
        title = str(app.screen.query_one("#check-demo-exists .check-title").render())
        assert "◌ not yet" in title and "failed" not in title, title
        shown = app.engine.prepare(app.screen.step)[0].display  # kubectl apply -f - ... <<'EOF'
        type_in_learners_shell(app, shown, tmp_path)
        # no key pressed from here on
        await until(pilot, lambda: "-passed" in _classes(app, "demo-exists"), timeout=30)
        await until(pilot, lambda: app.engine.progress.get("demo/namespace").state == "done", timeout=10)
        await until(pilot, lambda: not app.screen.query("#diy-banner"), timeout=10)
        assert "All checks passed" in str(app.screen.query_one("#output-status").render())

    drive(app, scenario)


def test_r_still_runs_the_step_in_diy_mode(build):
    app = build(*demo_args())

    async def scenario(pilot):
        app.open_step("demo/namespace")
        await pilot.pause()
        await pilot.press("d", "r")
        await finished(pilot)
        await until(pilot, lambda: app.engine.progress.get("demo/namespace").state == "done", timeout=30)
        # the watcher sees the checks pass too, and stops watching
        await until(pilot, lambda: not app.screen.query("#diy-banner"), timeout=30)
        await pilot.press("n")  # demo/config cannot pass yet: d switches watching on, then off
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.query("#diy-banner")
        await pilot.press("d")
        await pilot.pause()
        assert not app.screen.query("#diy-banner")

    drive(app, scenario)


def test_the_global_preference_opens_every_step_in_diy_mode(build):
    app = build(*demo_args())

    async def scenario(pilot):
        app.action_command_palette()
        await pilot.pause()
        await pilot.press(*"yourself: every")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert backend.diy_always()
        app.open_step("demo/config")
        await pilot.pause()
        assert app.screen.query("#diy-banner")
        await pilot.press("escape")
        app.action_diy_always()
        assert not backend.diy_always()
        app.open_step("demo/config")
        await pilot.pause()
        assert not app.screen.query("#diy-banner")

    drive(app, scenario)


def test_snapshot_diy_step_80x24(snap_compare, build):
    from tests.ui.test_snapshots import settle

    async def before(pilot):
        await settle(pilot)
        pilot.app.open_step("demo/config")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(build(*demo_args()), terminal_size=(80, 24), run_before=before)
