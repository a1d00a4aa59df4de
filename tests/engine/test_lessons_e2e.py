"""Every lesson step on the sandbox: its checks fail before the step runs and pass after it.

Walks the whole tutorial on both Istio variants, from an empty simulated cluster. Three steps
only observe what earlier steps built (the cluster answers, kubectl is installed, the app
answers through the Gateway); their checks are shown to fail on a cluster where that is not
true yet, in separate tests below.
"""

from __future__ import annotations

import pytest

from sandbox_engine import engine_for, require_kubectl, start_cluster

OBSERVING = {"before-you-start/cluster", "before-you-start/tools", "reach-the-app/browse",
             # an experiment that ends where it began (its own command asserts the refusal it shows)
             "reach-the-app/refused-route"}
SHORT = 1.5  # seconds a "before" check may wait: it must not pass, so it runs out this clock


@pytest.fixture
def cluster(tmp_path):
    require_kubectl()
    c = start_cluster(tmp_path)
    yield c
    c.stop()


@pytest.mark.parametrize("variant", ["helm", "istioctl"])
def test_every_step_fails_before_and_passes_after(cluster, tmp_path, variant):
    engine = engine_for(cluster, tmp_path)
    engine.progress.set_variant("istio", variant)
    steps = engine.steps("all")
    assert {s.variant for _, s in steps if s.lesson_id == "istio"} == {variant}
    for _, step in steps:
        if step.target not in OBSERVING and not step.is_challenge:  # challenges start from a working lab
            before = engine.check_step(step, timeout=SHORT, record=False)
            assert before and not all(r.passed for r in before), f"{step.target}: checks pass before it ran"
        outcome = engine.run_step(step)
        failed = outcome.failed_command
        assert failed is None, f"{step.target}: {failed.argv} failed:\n{failed.stdout}\n{failed.stderr}"
        bad = [f"{r.title}: {r.observed}" for r in outcome.checks if not r.passed]
        assert not bad, f"{step.target}: {bad}"
        assert engine.progress.get(step.target).state == "done"
    engine.close()


def test_reach_the_app_fails_before_the_route(cluster, tmp_path):
    engine = engine_for(cluster, tmp_path)
    for _, step in engine.steps("..gateway"):
        assert engine.run_step(step).ok, step.target
    browse = engine.lessons.step("reach-the-app/browse")
    before = engine.check_step(browse, timeout=SHORT, record=False)
    assert not before[0].passed
    assert "404" in before[0].observed  # the listener has no route yet
    engine.run_step(engine.lessons.step("httproute/apply-route"))
    assert all(r.passed for r in engine.check_step(browse))
    engine.close()


def test_first_lesson_checks_fail_on_an_unreachable_cluster(tmp_path):
    require_kubectl()
    cluster = start_cluster(tmp_path, faults=["api-unreachable"])
    try:
        engine = engine_for(cluster, tmp_path)
        results = engine.check_step(engine.lessons.step("before-you-start/cluster"), timeout=SHORT)
        assert results and not any(r.passed for r in results)
        assert engine.progress.get("before-you-start/cluster").state == "todo"
    finally:
        cluster.stop()


def test_tools_check_fails_without_kubectl(cluster, tmp_path):
    engine = engine_for(cluster, tmp_path)
    engine.target.env["PATH"] = str(tmp_path / "empty-bin")
    engine.target.extra_path = []
    results = engine.check_step(engine.lessons.step("before-you-start/tools"), timeout=SHORT)
    assert [r.passed for r in results] == [False]
    assert "127" in results[0].observed or "kubectl" in results[0].observed
