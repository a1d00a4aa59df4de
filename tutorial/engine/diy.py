"""Do it yourself: the learner runs the step's commands in their own shell; the tutorial watches.

`watch_step` re-evaluates the step's checks in short rounds until all pass (or it is cancelled).
Most checks wait on the watch API, so a change in the cluster ends their wait at once; checks that
run a command are repeated every round. Nothing is recorded until every check passes. The global
preference (on for every step) is kept in `state_dir()/settings.json`.
"""

from __future__ import annotations

import json
import os
import threading

ROUND = 1.0  # seconds a round's checks wait for their condition before the round starts again
PAUSE = 0.1  # between rounds, so a check that fails at once does not spin


def watch_step(engine, step, cancel: threading.Event, on_event=None,
               round_seconds: float = ROUND) -> list | None:
    """The passing results once every check holds (the step is then recorded done); None if cancelled."""
    if not step.checks:
        return None
    while not cancel.is_set():
        results = engine.check_step(step, on_event=on_event, cancel=cancel, timeout=round_seconds, record=False)
        if cancel.is_set():
            return None
        if results and all(r.passed for r in results):
            engine.record_checks(step, results, ran=False)
            return results
        cancel.wait(PAUSE)
    return None


def _settings_path():
    from tutorial.paths import state_dir

    return state_dir() / "settings.json"


def _settings() -> dict:
    try:
        data = json.loads(_settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def always() -> bool:
    """Whether every step opens in do-it-yourself mode."""
    return _settings().get("do_it_yourself") is True


def set_always(on: bool) -> None:
    """Remember the preference (atomic write, other settings kept)."""
    path = _settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _settings() | {"do_it_yourself": bool(on)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
