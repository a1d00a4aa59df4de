"""Start-up, cluster choice, errors, and the app-wide keys."""

from __future__ import annotations

import subprocess
import sys

from tests.ui.conftest import SIZE, demo_args, finished, ready, run, until
from tutorial.ui.screens.help import HelpScreen
from tutorial.ui.screens.lessons import LessonsScreen
from tutorial.ui.screens.modals import ConfirmModal, ErrorModal, PickerModal
from tutorial.ui.widgets.cluster_bar import ClusterBar
from tutorial.ui.widgets.resource_pane import ResourcePane


def test_importing_the_app_loads_neither_kubernetes_nor_sh_nor_the_lessons():
    code = ("import sys, tutorial.ui.app, tutorial.commands.tui;"
            "print(','.join(m for m in ('kubernetes', 'sh', 'tutorial.engine.session', 'tutorial.lessons.loader')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _kubeconfig(path, server: str) -> str:
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: lab
clusters:
- name: lab
  cluster: {{server: "{server}"}}
contexts:
- name: lab
  context: {{cluster: lab, user: lab}}
users:
- name: lab
  user: {{token: secret}}
""")
    return str(path)


def test_unreachable_cluster_falls_back_to_sandbox_with_notice_and_picker(build, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:1"))
    app = build("--lessons", demo_args()[2])

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert app.engine.target.sandbox
            bar = app.screen.query_one(ClusterBar)
            assert bar.has_class("-sandbox") and bar.context == "sandbox"
            notice = str(app.screen.query_one("#notice").render())
            assert "lab" in notice and "sandbox" in notice
            await pilot.press("C")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            assert [key for key, _ in app.screen.choices] == ["lab", "@sandbox"]
            assert app.screen.current == "@sandbox"
            await pilot.press("escape")
            assert isinstance(app.screen, LessonsScreen) and app.engine.target.sandbox
            first = app.engine
            await pilot.press("C")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            await pilot.press("up", "enter")  # "lab": still unreachable, so the sandbox again
            await until(pilot, lambda: app.engine is not None and app.engine is not first)
            assert app.engine.target.sandbox and "lab" in str(app.screen.query_one("#notice").render())
            await pilot.press("enter", "r")  # the new engine's sandbox answers
            await finished(pilot)
            assert app.engine.progress.get("demo/namespace").state == "done"

    run(scenario())


def test_broken_lessons_show_an_error_dialog_and_exit_2(build, tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "bad.yaml").write_text("format_version: 1\nid: bad\ntitel: typo\n")
    app = build("--sandbox", "--lessons", str(lessons))

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ErrorModal))
            assert app.screen.fatal and "lint" in app.screen.message and "bad.yaml" in app.screen.message
            await pilot.press("enter")

    run(scenario())
    assert app.return_code == 2


def test_palette_runs_actions_by_name_and_help_theme_keys(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("enter")
            await pilot.press("ctrl+p")
            await pilot.press(*"solve step")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("escape")
            dark = app.current_theme.dark
            await pilot.press("t")
            assert app.current_theme.dark is not dark
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)

    run(scenario())


def test_resource_pane_shows_what_the_cluster_has(build):
    app = build(*demo_args())

    def pane_rows() -> list[str]:
        return app.screen.query_one(ResourcePane).names

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("enter", "w")
            assert app.screen.query_one(ResourcePane).display
            env = {"KUBECONFIG": app.engine.target.kubeconfig, "PATH": "/usr/local/bin:/usr/bin:/bin"}
            subprocess.run(["kubectl", "--context", "sandbox", "create", "deployment", "web", "--image=nginx"],
                           env=env, check=True, capture_output=True)
            await until(pilot, lambda: "default/web" in pane_rows())
            await pilot.press("w")
            assert not app.screen.query_one(ResourcePane).display

    run(scenario())


def test_m_and_the_palette_open_the_traffic_map(build):
    from tutorial.ui.screens.traffic_map import TrafficMapScreen

    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.press("m")
            await until(pilot, lambda: isinstance(app.screen, TrafficMapScreen))
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, TrafficMapScreen))
            await pilot.press("ctrl+p")
            await pilot.press(*"traffic map")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, TrafficMapScreen))

    run(scenario())
