"""End to end: the mistakes of issue 14, made with real kubectl on the blog's sandbox; the check
fails, the explanation names the cause in the learner's names, and its fix command, run as
shown, repairs the cluster (the step's checks pass again)."""

from __future__ import annotations

import yaml

from sandboxlab import Lab, text_of
from tutorial.engine.evidence import command_evidence
from tutorial.engine.explain import explain_evidence
from tutorial.engine.runner import CommandSpec, run_command
from tutorial.paths import assets_dir

GW = "gateway.networking.k8s.io"


def _asset(name: str) -> dict:
    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())


def _view(views, check_id: str):
    found = [v for v in views if v.check_id == check_id]
    assert found, [(v.check_id, v.rule_id) for v in views]
    return found[0]


def _run_fix(lab, argv: list[str]):
    result = run_command(CommandSpec(argv=list(argv), timeout=120), lab.engine.target.run_target())
    assert result.ok, (argv, result.stdout, result.stderr)
    return result


def _passes(lab, target: str) -> None:
    results = lab.engine.check_step(lab.step(target), timeout=60, record=False)
    assert all(r.passed for r in results), [(r.check_id, r.observed) for r in results if not r.passed]


def test_web_scaled_to_zero_is_explained_and_fixed(blog):
    blog.kubectl("scale", "deploy/web", "-n", "emojivoto", "--replicas=0")
    try:
        view = _view(blog.explain("emojivoto/deploy", timeout=5), "deployments-available")
        assert view.rule_id == "deployment-scaled-to-zero", (view.rule_id, view.observed)
        assert view.fix_command == ["kubectl", "scale", "deploy/web", "-n", "emojivoto", "--replicas=1"]
        _run_fix(blog, view.fix_command)
        _passes(blog, "emojivoto/deploy")
    finally:
        blog.kubectl("scale", "deploy/web", "-n", "emojivoto", "--replicas=1")


def test_backend_port_8080_is_caught_by_lesson_5_itself(blog):
    rt = _asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
    blog.apply(yaml.safe_dump(rt))
    try:
        views = blog.explain("httproute", timeout=5)
        view = _view(views, "backend-port")
        assert view.rule_id == "route-backend-port-not-service-port", (view.rule_id, view.observed)
        assert "port 80 is the Service port, 8080 the container's" in view.why
        assert view.fix_command[:5] == ["kubectl", "patch", "httproute", "emojivoto", "-n"]
        assert '"value":80' in view.fix_command[-1]
        _run_fix(blog, view.fix_command)
        _passes(blog, "httproute/apply-route")
    finally:
        blog.apply(yaml.safe_dump(_asset("httproute.yaml")))


def test_lower_case_listener_protocol_fix_command_works(blog):
    gw = _asset("gateway.yaml")
    gw["spec"]["listeners"][0]["protocol"] = "http"
    blog.apply(yaml.safe_dump(gw))
    try:
        blog.wait("--for=jsonpath={.status.listeners[0].conditions[0].reason}=UnsupportedProtocol",
                  f"gateways.{GW}/emojivoto", "-n", "istio-ingress")
        view = _view(blog.explain("gateway", timeout=5), "listener-accepted")
        assert view.rule_id == "istio-listener-protocol-case", (view.rule_id, view.observed)
        assert view.fix_command and '"value":"HTTP"' in view.fix_command[-1]
        _run_fix(blog, view.fix_command)
        _passes(blog, "gateway/apply-gateway")
    finally:
        blog.apply(yaml.safe_dump(_asset("gateway.yaml")))


def test_gatewayclass_controller_name_is_immutable(blog):
    gc = {"apiVersion": f"{GW}/v1", "kind": "GatewayClass", "metadata": {"name": "istio"},
          "spec": {"controllerName": "istio.io/gateway-controler"}}
    result = run_command(CommandSpec(argv=["kubectl", "apply", "-f", "-"], stdin=yaml.safe_dump(gc), timeout=60),
                         blog.engine.target.run_target())
    assert not result.ok and "immutable" in result.stderr, result.stderr
    view = explain_evidence(command_evidence(result))
    assert view.rule_id == "cli-gatewayclass-controller-immutable", (view.rule_id, result.stderr)
    text = text_of(view)
    assert "istio.io/gateway-controller" in text and "would break it" in text
    assert "delete and re-create" not in text.lower()


def test_gw_short_name_is_istios_gateway_kind(blog):
    result = run_command(CommandSpec(argv=["kubectl", "get", "gw", "emojivoto", "-n", "istio-ingress"], timeout=60),
                         blog.engine.target.run_target())
    if result.ok or "networking.istio.io" not in result.stderr:
        import pytest

        pytest.skip(f"`gw` does not resolve to Istio's Gateway kind here: {result.stderr.strip()}")
    view = explain_evidence(command_evidence(result))
    assert view.rule_id == "cli-istio-gateway-short-name", (view.rule_id, result.stderr)
    assert "gtw" in view.fix and view.fix_command == ["kubectl", "get", "gateways.gateway.networking.k8s.io", "-A"]


def test_istiod_pending_for_memory_fix_works_on_the_sandbox(tmp_path):
    """The helm fix pins the chart version installed and keeps the other values (--reuse-values)."""
    lab = Lab(tmp_path, faults=["istiod-unschedulable"])
    try:
        run = lab.engine.target.run_target()
        for argv in (["helm", "repo", "add", "istio", "https://istio-release.storage.googleapis.com/charts"],
                     ["helm", "install", "istio-base", "istio/base", "-n", "istio-system", "--create-namespace",
                      "--version", "1.27.1"],
                     ["helm", "install", "istiod", "istio/istiod", "-n", "istio-system", "--version", "1.27.1"]):
            assert run_command(CommandSpec(argv=argv, timeout=60), run).ok, argv
        lab.wait("pod", "-l", "app=istiod", "-n", "istio-system", "--for=condition=PodScheduled=False")
        step = lab.step("istio/istiod")
        results = lab.engine.check_step(step, timeout=60, record=False)
        assert any(r.settled and "Unschedulable" in r.settled for r in results), [(r.check_id, r.observed)
                                                                                    for r in results]
        view = lab.explain("istio/istiod", timeout=1)[0]
        assert view.rule_id == "istio-istiod-insufficient-memory", (view.rule_id, view.observed)
        assert view.fix_command[:7] == ["helm", "upgrade", "istiod", "istio/istiod", "-n", "istio-system",
                                        "--version"]
        assert "1.27.1" in view.fix_command and "--reuse-values" in view.fix_command
        _run_fix(lab, view.fix_command)
        _passes(lab, "istio/istiod")
    finally:
        lab.stop()
