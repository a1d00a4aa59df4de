"""Lesson 7's break-and-fix challenges, each run in full on the finished lab: the tutorial breaks
it, the named check fails fast (settled, not by timeout) with the expected explanation rule, the
documented repair typed as the learner would (real kubectl in a subprocess, KUBECONFIG exported)
makes every check pass again, and the lab is left working for the next challenge."""

from __future__ import annotations

import pytest

from sandboxlab import blog_lab
from tutorial.engine import challenge
from tutorial.engine.explain import explain_result

# challenge -> (the check that must fail once broken, the explanation rule that must name it)
EXPECTED = {
    "route-turned-away": ("route-accepted", "route-not-allowed-selector-label"),
    "no-such-listener": ("route-accepted", "route-no-matching-parent-section"),
    "pod-port": ("backend-port", "route-backend-port-not-service-port"),
    "protocol-case": ("attached", "istio-listener-protocol-case"),
    "class-typo": ("gateway", "istio-gateway-class-missing"),
    "same-namespace-only": ("route-accepted", "route-not-allowed-same-namespace"),
    "web-scaled-down": ("web-available", "deployment-scaled-to-zero"),
    "image-typo": ("web-ready", "pod-image-pull-not-found"),
    "istiod-gone": ("istiod-available", "deployment-scaled-to-zero"),
    # the lab is built with istioctl, so the fix names istioctl's way to set the request
    "istiod-no-room": ("istiod-available", "istio-istiod-insufficient-memory-istioctl"),
}
BROKEN_WAIT = 30  # seconds a broken check may take to settle; reaching it is a failure (not settled)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = blog_lab(tmp_path_factory.mktemp("challenges"))
    yield lab
    lab.stop()


def test_lesson_seven_holds_at_least_eight_challenges_all_tested(lab):
    steps = [s for _, s in lab.engine.steps("troubleshooting")]
    assert all(s.is_challenge for s in steps)
    assert len(steps) >= 8 and {s.id for s in steps} == set(EXPECTED)
    real = [s for s in steps if not s.breaks.sandbox_only]
    assert len(real) >= 8, "at least eight challenges must also run on a real cluster"
    for step in steps:
        assert step.breaks.minutes and step.breaks.objectives and len(step.hints) >= 3, step.target


def _repair_in_learner_shell(lab, step) -> None:
    """The documented repair (the step's solve), typed with real kubectl and KUBECONFIG exported."""
    for command in step.solve_commands:
        prepared = lab.engine._prepare(step, command)
        argv = prepared.spec.argv
        assert argv[0] == "kubectl", argv
        lab.kubectl(*argv[1:], input=prepared.spec.stdin)


@pytest.mark.parametrize("challenge_id", list(EXPECTED))
def test_challenge_breaks_then_the_documented_repair_fixes_it(lab, challenge_id):
    step = lab.step(f"troubleshooting/{challenge_id}")
    check_id, rule = EXPECTED[challenge_id]
    notes = []
    results = challenge.break_lab(lab.engine, step, on_event=notes.append)
    assert all(r.ok for r in results), [(r.argv, r.stderr) for r in results]
    notes = [e for e in notes if type(e).__name__ == "StepNote"]
    assert [n.text for n in notes] == [challenge.symptom(lab.engine, step)]
    assert notes[0].text.startswith("Something broke: ")
    assert lab.engine.progress.get(step.target).state == "todo"

    broken = {r.check_id: r for r in lab.engine.check_step(step, timeout=BROKEN_WAIT, record=False)}
    failed = broken[check_id]
    assert not failed.passed, f"{step.target}: {check_id} passes on the broken lab: {failed.observed}"
    assert failed.settled, f"{step.target}: {check_id} only failed by timeout: {failed.observed}"
    view = explain_result(lab.engine, step, failed)
    assert view is not None and view.rule_id == rule, (view and view.rule_id, failed.observed)

    _repair_in_learner_shell(lab, step)
    fixed = lab.engine.check_step(step, timeout=60)
    assert all(r.passed for r in fixed), [(r.check_id, r.observed) for r in fixed if not r.passed]
    assert lab.engine.progress.get(step.target).state == "done"


def test_sandbox_only_challenge_is_refused_on_a_real_cluster(lab):
    import dataclasses

    step = lab.step("troubleshooting/istiod-no-room")
    real = dataclasses.replace(lab.engine.target, sandbox=False)
    engine = type(lab.engine)(lab.engine.lessons, real, None)
    assert challenge.offered(engine, step) == challenge.SANDBOX_ONLY
    with pytest.raises(ValueError, match="sandbox only"):
        challenge.break_lab(engine, step)
    assert challenge.offered(lab.engine, step) == ""
