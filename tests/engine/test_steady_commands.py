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


def test_a_fleet_asks_for_a_tools_client_version_once_per_path(tmp_path):
    """`kubectl version --client` says what is installed on this machine: a fleet's engines share
    the answer (one process, not one per cluster); anything else still runs per cluster."""
    from tutorial.engine.session import MachineFacts

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "kubectl"
    tool.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "runs"}\necho "Client Version: v1.32.4"\n')
    tool.chmod(0o755)
    facts = MachineFacts()
    engines = []
    for name in ("lab01", "lab02"):
        target = ClusterTarget(context=name, server="https://127.0.0.1:1", kubeconfig="/nonexistent",
                               sandbox=True, extra_path=[str(bin_dir)])
        engine = Engine(load_lessons(lessons_dir(), assets_dir()), target)
        engine.machine_facts = facts
        engines.append(engine)
    answers = [e.run_argv(["kubectl", "version", "--client"], 10) for e in engines]
    assert answers == [(0, "Client Version: v1.32.4\n")] * 2
    assert (tmp_path / "runs").read_text().splitlines() == ["version --client"]
    for engine in engines:
        engine.run_argv(["kubectl", "get", "--raw", "/readyz"], 10)  # about the cluster: each asks
    assert len((tmp_path / "runs").read_text().splitlines()) == 3
