"""A failure's explanation stays with its step (reopen, restart, `lessons`, `explain`), the CLI and
the TUI give the same one, and while checks wait the learner sees what they see and can ask `e`."""

from __future__ import annotations

import json

from tests.ui.conftest import SIZE, demo_args, finished, ready, run, until
from tutorial.cli import main
from tutorial.ui.screens.step import StepScreen
from tutorial.ui.widgets.step_parts import CheckList, ExplanationPanel

WAIT_LESSON = """\
format_version: 1
id: waits
title: A check that waits
order: 0
summary: One step whose check waits for an object nobody creates.
steps:
  - id: settings
    title: Wait for the settings
    text: The check waits for a ConfigMap that nobody creates.
    checks:
      - id: settings-exists
        kind: resource_exists
        title: ConfigMap settings exists
        api_version: v1
        object_kind: ConfigMap
        namespace: default
        name: settings
        timeout: 120
    hints:
      - "Exactly: `kubectl create configmap settings`."
"""


def _panel_text(app) -> str:
    panel = app.screen.query_one(ExplanationPanel)
    return " ".join(str(w.render()) for w in panel.query("Static, Label, Markdown"))


def _fail_config(build):
    """Run demo/config with its namespace missing; return the explanation the TUI stored."""
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.engine.progress.set("demo/namespace", "skipped")
            app.open_step("demo/config")
            await pilot.pause()
            await pilot.press("r")
            await finished(pilot)
            assert app.screen.query_one(ExplanationPanel).display
            shown = _panel_text(app)
            await pilot.press("escape")
            app.open_step("demo/config")  # reopening the step shows the same explanation
            await pilot.pause()
            assert app.screen.query_one(ExplanationPanel).display
            assert "From the last check" in _panel_text(app)
            assert app.screen.query_one(ExplanationPanel).fix_command == ["kubectl", "create", "namespace", "demo"]
            assert "-failed" in app.screen.query_one("#check-settings-exists").classes
            return shown, app.engine.progress.get("demo/config").verdict

    return run(scenario())


def test_explanation_survives_reopen_and_restart_and_cli_says_the_same(build, capsys):
    shown, verdict = _fail_config(build)
    explanation = verdict["explanation"]
    assert explanation["title"] in shown and explanation["fix_command"] == ["kubectl", "create", "namespace", "demo"]
    again = build(*demo_args())  # a restart: a new app on the same state dir

    async def reopen():
        async with again.run_test(size=SIZE) as pilot:
            await ready(pilot)
            again.open_step("demo/config")
            await pilot.pause()
            assert isinstance(again.screen, StepScreen)
            assert explanation["title"] in _panel_text(again)

    run(reopen())
    capsys.readouterr()
    assert main(["lessons", "--sandbox", "--lessons", str(demo_args()[2])]) == 0
    listed = capsys.readouterr().out
    assert "last check:" in listed and explanation["title"].split("`")[0][:30] in listed
    # the demo pack's check runs a command: --yes confirms it (it is still shown)
    code = main(["explain", *demo_args(), "demo/config", "--json", "--timeout", "1", "--yes"])
    rows = json.loads(capsys.readouterr().out)["checks"]
    assert code == 1
    cli = next(r["explanation"] for r in rows if r["explanation"])
    for key in ("title", "why", "fix", "fix_command", "rule"):
        assert cli[key] == explanation[key], key


def test_waiting_check_shows_what_it_sees_and_e_explains_now(build, tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "waits.yaml").write_text(WAIT_LESSON)
    app = build("--sandbox", "--lessons", str(lessons))

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.open_step("waits/settings")
            await pilot.pause()
            await pilot.press("c")
            row = app.screen.query_one("#check-settings-exists")

            def observing():
                """the waiting check shows its live observation"""
                return "now: ConfigMap settings" in str(row.query_one(".check-observed").render())

            await until(pilot, observing, timeout=60)
            assert " s" in str(row.query_one(".check-observed").render())
            footer = {ab.binding.action for ab in app.screen.active_bindings.values()
                      if ab.binding.show and ab.enabled}
            assert app.screen.busy and "explain_now" in footer
            await pilot.press("e")
            await until(pilot, lambda: app.screen.query_one(ExplanationPanel).display, timeout=60)
            text = _panel_text(app)
            assert "settings" in text and "the checks keep waiting" in text
            assert app.screen.busy  # the check itself still waits
            await pilot.press("x")
            await finished(pilot)
            assert app.screen.query_one(CheckList).watching == {}

    run(scenario())
