"""Regenerate the README screenshots: `python docs/screenshots/make.py` (runs on the sandbox).

Walks the real lessons up to the Gateway step through the same factory the command line uses,
then saves SVGs of the lesson list and of the Gateway step with its checks passed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))


async def wait(pilot, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("the app did not get there in time")
        await pilot.pause(0.05)


async def shoot() -> None:
    from tutorial.cli import build_parser
    from tutorial.commands.tui import make_app

    app = make_app(build_parser().parse_args(["--sandbox"]))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait(pilot, lambda: app.engine is not None and app.lessons is not None)
        app.engine.target.server = "http://127.0.0.1:6443"  # the sandbox's port changes every start
        for _lesson, step in app.walk():
            if step.target == "gateway/apply-gateway":
                break
            done = app.engine.run_step(step, solve=True)
            if not done.ok:
                raise SystemExit(f"{step.target} did not pass on the sandbox")
        app.refresh_outline(resume="gateway/apply-gateway")
        app.update_cluster_bars()
        await pilot.pause()
        app.save_screenshot("lesson-list.svg", str(HERE))
        app.open_step("gateway/apply-gateway")
        await pilot.pause()
        await pilot.press("r")
        await wait(pilot, lambda: not app.screen.busy)
        await pilot.pause()
        app.save_screenshot("step-checks-passed.svg", str(HERE))


if __name__ == "__main__":
    os.environ["GATEWAY_TUTORIAL_STATE_DIR"] = tempfile.mkdtemp(prefix="screenshots-")
    asyncio.run(shoot())
