"""The learner's own terminal from the TUI: `e` (footer and palette) shows and copies the export
line; a command pasted into a shell set up with it reaches the cluster the TUI uses."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.ui.conftest import SIZE, demo_args, ready, run
from tests.ui.test_snapshots import settle
from tutorial.ui import backend
from tutorial.ui.screens.shell_env import ShellEnvModal

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def _footer_keys(app) -> set[str]:
    return {b.key for (_, b, enabled, _) in app.active_bindings.values() if b.show and enabled}


def test_bang_shows_the_export_line_and_a_pasted_command_reaches_the_tutorials_sandbox(build, tmp_path):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert "exclamation_mark" in _footer_keys(app)  # the lesson list's footer offers it
            await pilot.press("exclamation_mark")
            await pilot.pause()
            assert isinstance(app.screen, ShellEnvModal)
            line = _text(app, "#export-line")
            assert line.startswith("export KUBECONFIG=") and "PATH=" in line
            assert app.clipboard == line
            env_file = _text(app, "#env-file").removeprefix(". ")
            assert line in open(env_file, encoding="utf-8").read()
            assert _text(app, "#shell-command") == "gateway-tutorial shell --sandbox"
            assert "ignores clipboard" in _text(app, "#shell-copied")  # says what was done, not a claim
            # The learner pastes the line and the tutorial's first shown command in their terminal.
            home = tmp_path / "home"
            home.mkdir()
            typed = f". {env_file}\nkubectl create namespace typed-by-learner --context sandbox"
            done = subprocess.run(["sh", "-c", typed], env={"PATH": SYSTEM_PATH, "HOME": str(home)},
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            ns = app.engine.client.get_json("/api/v1/namespaces/typed-by-learner")
            assert ns is not None  # the very cluster the TUI talks to
            await pilot.press("escape")
            assert not isinstance(app.screen, ShellEnvModal)

    run(scenario())


def test_the_palette_offers_your_own_shell(build):
    from tutorial.ui.commands import ACTIONS

    assert ACTIONS["shell_env"][0] == "Your own shell"
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            app.action_command_palette()
            await pilot.pause()
            await pilot.press(*"own shell")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, ShellEnvModal)

    run(scenario())


def _masked(monkeypatch, tmp_path):
    """Snapshots must not show this run's temporary paths."""
    real = backend.shell_setup

    def shell_setup(engine):
        s = real(engine)
        for field in ("export_line", "env_file"):
            setattr(s, field, getattr(s, field).replace(str(tmp_path), "/home/learner/.local"))
        s.export_line = s.export_line.replace(os.path.dirname(shutil.which("gateway-tutorial") or "/x/y"),
                                              "/home/learner/.local/bin")
        return s

    monkeypatch.setattr(backend, "shell_setup", shell_setup)


async def _open(pilot):
    await settle(pilot)
    await pilot.press("exclamation_mark")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_your_own_terminal(snap_compare, build, monkeypatch, tmp_path, size):
    from tutorial.engine.shellenv import tutorial_bin_dir

    _masked(monkeypatch, tmp_path)
    # as in an activated virtual environment (and CI): gateway-tutorial is on PATH, so the export
    # line adds only the sandbox's tools, whoever runs the test
    monkeypatch.setenv("PATH", f"{tutorial_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}")
    assert snap_compare(build("--sandbox"), terminal_size=size, run_before=_open)
