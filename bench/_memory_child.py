"""Child process for bench_memory: peak RSS of the tutorial with the embedded sandbox, after
walking every step of the tutorial in that process; or of a bare Textual app (MODE bare)."""

from __future__ import annotations

import asyncio
import resource
import sys


async def _walk(pilot) -> None:
    app = pilot.app
    if sys.argv[1] == "tutorial":
        for _ in range(600):  # the engine connects (and starts the sandbox) in a worker
            if getattr(app, "engine", None) is not None:
                break
            await pilot.pause(0.05)
        engine = app.engine
        loop = asyncio.get_running_loop()
        walked = 0
        for _, step in engine.steps("all"):
            outcome = await loop.run_in_executor(None, lambda s=step: engine.run_step(s))
            if not outcome.ok:
                sys.stdout.write(f"FAILED {step.target}\n")
                break
            walked += 1
        sys.stdout.write(f"STEPS {walked}\n")
    await pilot.pause()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write(f"PEAK_RSS_KIB {peak_kib}\n")
    sys.stdout.flush()
    app.exit()


if __name__ == "__main__":
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from _first_screen_child import bare_app, tutorial_app

    app = bare_app() if sys.argv[1] == "bare" else tutorial_app()
    app.run(headless=True, size=(100, 30), auto_pilot=_walk)
