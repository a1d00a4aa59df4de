"""Engine.steady_commands(): inside, a step's commands are rendered once (a fleet prepare asks ~8
times per step); outside, every prepare() renders afresh (a learner may edit a manifest any time)."""

from __future__ import annotations

from tutorial.engine.session import Engine
from tutorial.engine.target import ClusterTarget
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir


def _engine() -> Engine:
    target = ClusterTarget(context="lab01", server="https://127.0.0.1:1", kubeconfig="/nonexistent")
    return Engine(load_lessons(lessons_dir(), assets_dir()), target)


def test_inside_rendered_once_outside_every_time():
    engine = _engine()
    step = engine.lessons.step("gateway/apply-gateway")
    outside = [engine.prepare(step, solve=True), engine.prepare(step, solve=True)]
    assert outside[0] == outside[1] and outside[0][0] is not outside[1][0]
    with engine.steady_commands():
        first, again = engine.prepare(step, solve=True), engine.prepare(step, solve=True)
        assert first == outside[0] and first[0] is again[0]
        first.clear()  # a caller's list is its own
        assert engine.prepare(step, solve=True) == again
        assert engine.prepare(step) == engine.prepare(step, solve=False)  # keyed by solve too
    assert engine.prepare(step, solve=True)[0] is not again[0]
