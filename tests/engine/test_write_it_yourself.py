"""Write it yourself (domain): the learner's YAML is kept per cluster, is what the step applies, and
before applying the tutorial says what the API server refuses and what each change will do."""

from __future__ import annotations

import pytest

from sandbox_engine import engine_for, require_kubectl, start_cluster
from tutorial.engine import mine


@pytest.fixture
def lab(tmp_path, monkeypatch):
    require_kubectl()
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    cluster = start_cluster(tmp_path)
    engine = engine_for(cluster, tmp_path)
    for _, step in engine.steps("..gateway/apply-gateway"):
        assert engine.run_step(step, solve=True).ok, step.target
    yield engine
    engine.close()
    cluster.stop()


def _route(engine):
    step = engine.lessons.step("httproute/apply-route")
    return step, step.manifest("httproute").text


def test_the_learners_version_is_what_the_step_applies_and_survives_reset(lab):
    step, blog = _route(lab)
    yours = blog.replace("name: emojivoto\n  namespace: emojivoto", "name: my-route\n  namespace: emojivoto")
    assert yours != blog
    mine.save(lab, step, "httproute", yours)
    assert "my-route" in lab.prepare(step)[0].display  # shown exactly as it will run
    assert lab.run_step(step).commands_ok
    assert lab.client.get(lab.client.resource("gateway.networking.k8s.io/v1", "HTTPRoute"), "emojivoto", "my-route")
    from tutorial.instructor.reset import undo_from

    undo_from(lab, step.target, dry_run=False)
    assert mine.load(lab, step, "httproute") == yours  # reset undoes the cluster, not the learner's file


def test_differences_say_what_each_change_does(lab):
    step, blog = _route(lab)
    changed = blog.replace("port: 80", "port: 8080").replace(
        "    namespace: istio-ingress\n", "    namespace: istio-ingress\n    sectionName: http-8080\n")
    lines = mine.differences(lab, step, "httproute", changed)
    text = "\n".join(lines)
    assert "sectionName http-8080 names no listener of this Gateway (it has emojivoto)" in text
    assert "Service web-svc has no port 8080 (it has 80" in text
    assert "✘" not in text  # both are valid objects: the API server accepts them


def test_differences_put_the_api_servers_refusal_first(lab):
    step = lab.lessons.step("gateway/apply-gateway")
    blog = step.manifest("gateway").text
    bad = blog.replace("port: 8080", "port: 99999")
    lines = mine.differences(lab, step, "gateway", bad)
    assert lines[0].startswith("✘ The API server would refuse it"), lines
    assert "99999" in lines[0] or "65535" in lines[0]
    assert any("spec.listeners[0].port" in l for l in lines[1:])
    assert mine.differences(lab, step, "gateway", "a: [b")[0].startswith("✘ This is not valid YAML")
    assert mine.differences(lab, step, "gateway", blog) == ["Your version is the same as the blog's manifest."]
