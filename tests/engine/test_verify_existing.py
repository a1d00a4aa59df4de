"""A cluster that already runs Istio: the install steps verify it instead of installing again."""

from __future__ import annotations

import pytest

from sandbox_engine import engine_for, require_kubectl, start_cluster
from tutorial.engine.session import StepNote


@pytest.fixture
def cluster(tmp_path):
    require_kubectl()
    c = start_cluster(tmp_path)
    yield c
    c.stop()


def test_existing_istio_is_verified_not_reinstalled(cluster, tmp_path):
    setup = engine_for(cluster, tmp_path)
    setup.progress.set_variant("istio", "istioctl")
    for _, step in setup.steps("..istio/istioctl-install"):
        assert setup.run_step(step).ok, step.target
    setup.close()

    learner_dir = tmp_path / "learner"  # a second machine: its own progress and kubectl cache
    learner_dir.mkdir()
    learner = engine_for(cluster, learner_dir)
    step = learner.lessons.step("istio/istiod")
    events = []
    outcome = learner.run_step(step, on_event=events.append)
    assert outcome.ok
    assert outcome.commands == []  # helm was never run
    notes = [e.text for e in events if isinstance(e, StepNote)]
    assert notes and "already installed" in notes[0] and "istioctl" in notes[0]
    assert learner.progress.get("istio/istiod").state == "done"
    learner.close()


def test_fresh_cluster_runs_the_install(cluster, tmp_path):
    engine = engine_for(cluster, tmp_path)
    assert engine.verify_instead(engine.lessons.step("istio/istiod")) == ""
    engine.close()
