"""Build the TUI the way the command line does, on a fresh sandbox in a temporary state dir."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tutorial.cli import build_parser
from tutorial.commands.tui import make_app

DEMO_LESSONS = Path(__file__).resolve().parent / "lessons"
SIZE = (100, 32)


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))  # never the developer's cluster
    return tmp_path / "state"


@pytest.fixture
def build(state_dir):
    """build(*argv) -> TutorialApp, through the CLI's parser and factory."""

    def make(*argv: str):
        return make_app(build_parser().parse_args(list(argv)))

    return make


def demo_args(*extra: str) -> list[str]:
    return ["--sandbox", "--lessons", str(DEMO_LESSONS), *extra]


async def until(pilot, predicate, timeout: float = 180.0) -> None:
    """Let the app process messages until predicate() holds (a worker posts what we wait for)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never reached: {predicate.__doc__ or predicate}")
        await pilot.pause(0.05)


async def ready(pilot) -> None:
    """Wait until lessons are loaded and the engine is connected."""
    await until(pilot, lambda: pilot.app.engine is not None and pilot.app.lessons is not None)
    await pilot.pause()


async def finished(pilot) -> None:
    """Wait until the step screen's worker has finished and its result is shown."""
    await until(pilot, lambda: not getattr(pilot.app.screen, "busy", False))
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()  # the scroll to the checks happens after layout
    await pilot.pause()


def run(coro):
    return asyncio.run(coro)


def drive(app, body, size: tuple[int, int] = (100, 32)) -> None:
    """Run app under Pilot at size, wait until it is ready, then `await body(pilot)`."""
    async def scenario():
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            await body(pilot)

    run(scenario())


SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"  # a learner's shell: no virtual environment on PATH


def needs_kubectl() -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")


def type_in_learners_shell(app, line: str, tmp_path) -> None:
    """Run `line` as the learner would: sh with the setup the TUI gives (its env file), real kubectl."""
    from tutorial.ui import backend

    setup = backend.shell_setup(app.engine)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    done = subprocess.run(["sh", "-c", f". {setup.env_file}\n{line}"], capture_output=True, text=True,
                          env={"PATH": SYSTEM_PATH, "HOME": str(home)}, timeout=60)
    assert done.returncode == 0, done.stderr
