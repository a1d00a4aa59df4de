"""What the lessons must teach besides the steps (issue 17): the words are there, and the commands
and checks that show them exist. That they work is proven on the sandbox by
tests/engine/test_lessons_e2e.py (each check fails before its step and passes after) and by
tests/engine/test_learner_shell.py (each command works pasted into the learner's shell)."""

from __future__ import annotations

from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir

LESSONS = load_lessons(lessons_dir(), assets_dir())


def _text(lesson_id: str) -> str:
    return "\n".join(s.text for s in LESSONS.lesson(lesson_id).steps)


def test_north_south_and_east_west_are_defined():
    text = _text("gateway-api")
    assert "**North/south and east/west.**" in text
    assert "enters or leaves the cluster" in text and "between services inside the cluster" in text


def test_why_the_gateway_api_replaced_vendor_ingress_annotations():
    text = _text("gateway-api")
    assert "annotations" in text and "nginx.ingress.kubernetes.io" in text
    assert "typed fields" in text and "GatewayClass for whoever provides the infrastructure" in text


def test_istiods_automated_deployment_and_service_have_a_command_and_checks():
    step = LESSONS.step("gateway/apply-gateway")
    assert any("gateway.networking.k8s.io/gateway-name=emojivoto" in c.run for c in step.commands)
    kinds = {c.id: (c.kind, c.params.get("name")) for c in step.checks}
    assert kinds["proxy-deployment"] == ("deployment_available", "emojivoto-istio")
    assert kinds["proxy-service"] == ("resource_exists", "emojivoto-istio")


def test_a_guided_experiment_shows_a_route_refused_by_allowed_routes():
    step = LESSONS.step("reach-the-app/refused-route")
    assert "**Predict:**" in step.text and "NotAllowedByListeners" in step.text
    argvs = [" ".join(c.run) for c in step.commands]
    assert any(a.startswith("kubectl wait httproute/intruder") and "NotAllowedByListeners" in a for a in argvs)
    assert argvs[-1] == "kubectl delete httproute intruder -n default"  # the lab is left as it was
    assert "namespace: default" in step.manifest("intruder").text
