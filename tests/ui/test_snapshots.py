"""SVG snapshots of what a learner sees (update with `pytest tests/ui --snapshot-update`).

Nothing that changes between runs may reach the screen: the sandbox's port is replaced by a
fixed address, outputs are chosen to carry no ages or timestamps, and paths are relative.
"""

from __future__ import annotations

from tests.ui.conftest import demo_args, finished, ready, until
from tutorial.ui.screens.modals import ErrorModal

FIXED_SERVER = "http://127.0.0.1:6443"


async def settle(pilot) -> None:
    """Ready, with the sandbox's random port masked in every header."""
    await ready(pilot)
    pilot.app.engine.target.server = FIXED_SERVER
    pilot.app.update_cluster_bars()
    await pilot.pause()


def opened(target: str, *, run: bool = False, first: tuple[str, ...] = ()):
    async def before(pilot):
        await settle(pilot)
        for other in first:  # steps solved beforehand, outside the screen
            assert pilot.app.engine.run_step(pilot.app.engine.lessons.step(other), solve=True).ok
        pilot.app.open_step(target)
        await pilot.pause()
        if run:
            await pilot.press("r")
            await finished(pilot)
    return before


def test_lesson_list_with_sandbox_badge(snap_compare, build):
    assert snap_compare(build("--sandbox"), terminal_size=(100, 32), run_before=settle)


def test_lesson_list_80x24(snap_compare, build):
    assert snap_compare(build("--sandbox"), terminal_size=(80, 24), run_before=settle)


def test_sandbox_fallback_notice(snap_compare, build, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    assert snap_compare(build(), terminal_size=(100, 32), run_before=settle)


def test_step_before_running(snap_compare, build):
    assert snap_compare(build(*demo_args()), terminal_size=(100, 32), run_before=opened("demo/namespace"))


def test_step_80x24_with_yaml(snap_compare, build):
    assert snap_compare(build("--sandbox"), terminal_size=(80, 24), run_before=opened("gateway/apply-gateway"))


def test_checks_passed(snap_compare, build):
    assert snap_compare(build(*demo_args()), terminal_size=(100, 32),
                        run_before=opened("demo/namespace", run=True))


def test_failed_check_with_explanation(snap_compare, build):
    assert snap_compare(build(*demo_args()), terminal_size=(100, 32),
                        run_before=opened("demo/config", run=True, first=("demo/namespace",)))


def test_command_running(snap_compare, build):
    async def before(pilot):
        await opened("demo/watch")(pilot)
        await pilot.press("r")
        output = pilot.app.screen.query_one("#output")
        await until(pilot, lambda: any("kube-root-ca.crt" in line for line in output.lines))

    assert snap_compare(build(*demo_args()), terminal_size=(100, 32), run_before=before)


def test_error_dialog(snap_compare, build, tmp_path, monkeypatch):
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "bad.yaml").write_text("format_version: 1\nid: bad\ntitel: typo\n")
    monkeypatch.chdir(tmp_path)

    async def before(pilot):
        await until(pilot, lambda: isinstance(pilot.app.screen, ErrorModal))

    assert snap_compare(build("--sandbox", "--lessons", "lessons"), terminal_size=(100, 32), run_before=before)


def test_light_theme_checks_passed(snap_compare, build):
    async def before(pilot):
        await opened("demo/namespace", run=True)(pilot)
        await pilot.press("t")

    assert snap_compare(build(*demo_args()), terminal_size=(100, 32), run_before=before)
