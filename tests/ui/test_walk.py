"""Pilot tests: a learner walks lessons on the sandbox from the keyboard."""

from __future__ import annotations

import os
from pathlib import Path

from tests.ui.conftest import SIZE, demo_args, finished, ready, run, until
from tutorial.ui.screens.lessons import LessonsScreen
from tutorial.ui.screens.modals import ConfirmModal
from tutorial.ui.screens.step import StepScreen
from tutorial.ui.widgets.step_parts import CheckList, ExplanationPanel, HintList


def _check_classes(app) -> dict[str, set[str]]:
    checks = app.screen.query_one(CheckList)
    return {c.id: set(app.screen.query_one(f"#check-{c.id}").classes) for c in checks.checks}


def test_walk_run_checks_pass_next(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert isinstance(app.screen, LessonsScreen)
            await pilot.press("enter")  # the highlighted line is the next step: demo/namespace
            assert isinstance(app.screen, StepScreen) and app.screen.step.target == "demo/namespace"
            assert app.engine.progress.get("demo/namespace").state == "todo"  # nothing ran on opening
            await pilot.press("r")
            await finished(pilot)
            assert "-passed" in _check_classes(app)["demo-exists"]
            assert app.engine.progress.get("demo/namespace").state == "done"
            assert not app.screen.query_one(ExplanationPanel).display
            await pilot.press("n")
            assert app.screen.step.target == "demo/config"
            await pilot.press("escape")
            assert isinstance(app.screen, LessonsScreen)

    run(scenario())


def _panel_text(app) -> str:
    panel = app.screen.query_one(ExplanationPanel)
    return " ".join(str(w.render()) for w in panel.query("Static, Label, Markdown"))


def test_failing_check_explained_fix_offered_and_hints_one_at_a_time(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.engine.progress.set("demo/namespace", "skipped")  # so the namespace is missing
            app.open_step("demo/config")
            await pilot.pause()
            await pilot.press("r")
            await finished(pilot)
            assert "-failed" in _check_classes(app)["settings-exists"]
            panel = app.screen.query_one(ExplanationPanel)
            assert panel.display and 'namespaces "demo"' in _panel_text(app)  # what the check saw
            assert app.engine.progress.get("demo/config").state == "failed"
            assert panel.fix_command == ["kubectl", "create", "namespace", "demo"]
            await pilot.press("f")
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("y")
            await finished(pilot)
            assert "-failed" in _check_classes(app)["settings-exists"]  # the namespace exists now...
            assert 'configmaps "settings"' in _panel_text(app)  # ...and the ConfigMap is what is missing
            hints = app.screen.query_one(HintList)
            await pilot.press("h")
            assert hints.shown == 1
            await pilot.press("h")
            assert hints.shown == 2

    run(scenario())


def test_solve_asks_first_and_no_means_nothing_runs(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("enter", "s")
            assert isinstance(app.screen, ConfirmModal)
            assert any("apply -f -" in c and "--context sandbox" in c for c in app.screen.commands)
            await pilot.press("n")
            assert isinstance(app.screen, StepScreen) and not app.screen.busy
            assert app.engine.progress.get("demo/namespace").state == "todo"
            await pilot.press("s", "y")
            await finished(pilot)
            assert app.engine.progress.get("demo/namespace").state == "done"

    run(scenario())


def _watching_kubectl() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"kubectl") and b"--watch" in cmd and b"configmaps" in cmd:
                pids.append(int(entry.name))
    return pids


def test_quit_while_a_command_runs_stops_it_and_keeps_progress(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.open_step("demo/watch")
            await pilot.pause()
            await pilot.press("r")
            await until(pilot, lambda: any("kube-root-ca.crt" in l for l in app.screen.query_one("#output").lines))
            assert _watching_kubectl(), "the watch should be running"
            await pilot.press("q")
        return app

    run(scenario())
    assert _watching_kubectl() == []
    assert app.return_code == 0
    progress = Path(os.environ["GATEWAY_TUTORIAL_STATE_DIR"]) / "progress"
    assert [p for p in progress.glob("*.json")], "progress was kept"


def test_variant_picker_remembers_choice(build):
    app = build("--sandbox")

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            lessons = app.screen.query_one("#lesson-list")
            lessons.highlighted = lessons.get_option_index("S:istio/base")  # a step of the Helm path
            await pilot.press("v")
            await pilot.pause()
            picker = app.screen.query_one("#picker-options")
            picker.highlighted = picker.get_option_index("istioctl")
            await pilot.press("enter")
            await pilot.pause()
            assert app.engine.progress.variant("istio") == "istioctl"
            walked = [s.target for _, s in app.walk() if s.lesson_id == "istio"]
            assert "istio/istioctl-install" in walked and "istio/base" not in walked
            assert lessons.highlighted_option is not None  # the list still has a place to stand
            await pilot.press("enter")
            assert isinstance(app.screen, StepScreen)

    run(scenario())


def test_walk_the_emojivoto_lesson_of_the_tutorial(build):
    app = build("--sandbox")

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            lessons = app.screen.query_one("#lesson-list")
            lessons.highlighted = lessons.get_option_index("L:emojivoto")
            await pilot.press("enter")  # a lesson line opens its first open step
            assert app.screen.step.target == "emojivoto/namespace"
            for target in ("emojivoto/namespace", "emojivoto/deploy"):
                assert app.screen.step.target == target
                await pilot.press("r")
                await finished(pilot)
                assert app.engine.progress.get(target).state == "done", app.screen.query_one("#output").lines
                assert all("-passed" in c for c in _check_classes(app).values())
                await pilot.press("n")
            assert app.screen.step.target == app.first_open_step("istio")
            await pilot.press("escape")
            prompt = str(lessons.get_option("L:emojivoto").prompt)
            assert "2/2 done" in prompt

    run(scenario())


def test_reset_undoes_what_the_journal_recorded_after_confirming_and_skip_moves_on(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("enter", "r")
            await finished(pilot)
            assert app.engine.progress.get("demo/namespace").state == "done"
            await pilot.press("u")  # plans from the cluster's journal in a worker, then asks
            for _ in range(200):
                if isinstance(app.screen, ConfirmModal):
                    break
                await pilot.pause(0.05)
            assert isinstance(app.screen, ConfirmModal)
            assert any(c.startswith("delete") and "Namespace demo" in c for c in app.screen.commands), \
                app.screen.commands
            await pilot.press("y")
            await finished(pilot)
            assert app.engine.progress.get("demo/namespace").state == "todo"
            await pilot.press("c")  # the namespace is gone (or going): the check must not pass
            await finished(pilot)
            assert app.engine.progress.get("demo/namespace").state != "done"
            await pilot.press("k")
            assert app.engine.progress.get("demo/namespace").state == "skipped"
            assert app.screen.step.target == "demo/config"

    run(scenario())
