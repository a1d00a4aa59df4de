"""End to end: sandbox faults (image pulls, crash loops, no load balancer, istiod Pending, API down)
under the real lessons; `explain` must name the cause and the fix, with the learner's names."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandboxlab import Lab, text_of
from tutorial.engine.evidence import command_evidence
from tutorial.engine.explain import explain_evidence
from tutorial.engine.runner import CommandSpec, run_command

GW = "gateways.gateway.networking.k8s.io"


def _restart_web(lab) -> None:
    lab.kubectl("rollout", "restart", "deployment/web", "-n", "emojivoto")


def _wait_web_pod(lab, reason: str) -> None:
    lab.wait("pod", "-l", "app=web-svc", "-n", "emojivoto",
             f"--for=jsonpath={{.status.containerStatuses[0].state.waiting.reason}}={reason}")


def _wait_new_web_pod(lab, reason: str) -> None:
    """Wait for the newest ReplicaSet's pod (the old one keeps running during a rollout)."""
    rs = lab.kubectl("get", "rs", "-n", "emojivoto", "-l", "app=web-svc", "--sort-by=.metadata.creationTimestamp",
                     "-o", "jsonpath={.items[-1:].metadata.labels.pod-template-hash}").stdout.strip()
    lab.wait("pod", "-l", f"pod-template-hash={rs}", "-n", "emojivoto",
             f"--for=jsonpath={{.status.containerStatuses[0].state.waiting.reason}}={reason}")


def _heal_web(lab) -> None:
    _restart_web(lab)
    lab.wait("--for=condition=Available", "deployment/web", "-n", "emojivoto")
    lab.kubectl("rollout", "status", "deployment/web", "-n", "emojivoto", "--timeout=30s")


def _view(views, kind_or_id: str):
    found = [v for v in views if v.check_id == kind_or_id]
    assert found, [(v.check_id, v.rule_id) for v in views]
    return found[0]


def test_e03_image_pull_fails(blog):
    blog.faults.enable("image-pull", images=["emojivoto-web"])
    try:
        blog.kubectl("delete", "deployment", "web", "-n", "emojivoto")
        blog.engine.run_step(blog.step("emojivoto/deploy"), solve=True, check_timeout=0.1)
        _wait_new_web_pod(blog, "ImagePullBackOff")
        views = blog.explain("emojivoto/deploy")
        assert views
        rules = {v.rule_id for v in views}
        assert rules == {"pod-image-pull-no-such-host"}, [(v.check_id, v.rule_id, v.observed) for v in views]
        text = text_of(views[0])
        assert "docker.l5d.io/buoyantio/emojivoto-web:v11" in text and "no such host" in text
        assert views[0].fix_command[:3] == ["kubectl", "rollout", "restart"]
    finally:
        blog.faults.disable("image-pull")
        _heal_web(blog)


def test_crashloop_and_503_through_the_gateway(blog):
    blog.faults.enable("crashloop", selector="app=web-svc")
    try:
        _wait_web_pod(blog, "CrashLoopBackOff")
        deploy = blog.explain("emojivoto/deploy")
        assert {v.rule_id for v in deploy} == {"pod-crashloop"}, [(v.check_id, v.rule_id) for v in deploy]
        view = deploy[0]
        assert view.fix_command[:2] == ["kubectl", "logs"] and "--previous" in view.fix_command
        assert view.fix_command[2].startswith("web-")
        page = _view(blog.explain("reach-the-app"), "page")
        assert page.rule_id == "pod-crashloop", (page.rule_id, page.observed)
        assert "HTTP 503" in " ".join(page.observed)
    finally:
        blog.faults.disable("crashloop")
        _heal_web(blog)


def test_g06_gateway_proxy_crashing(blog):
    selector = "gateway.networking.k8s.io/gateway-name=emojivoto"
    blog.faults.enable("crashloop", selector=selector)
    try:
        blog.wait(f"{GW}/emojivoto", "-n", "istio-ingress",
                  "--for=jsonpath={.status.conditions[?(@.type==\"Programmed\")].status}=False")
        view = _view(blog.explain("gateway"), "gateway-programmed")
        assert view.rule_id in ("istio-no-instances-pod-failing", "pod-crashloop-gateway-proxy"), (view.rule_id,
                                                                                           view.observed)
        assert "WEB_PORT" not in text_of(view)
        assert "emojivoto-istio" in text_of(view)
    finally:
        blog.faults.disable("crashloop")
        blog.wait("--for=condition=programmed", f"{GW}/emojivoto", "-n", "istio-ingress")


def test_g05_no_load_balancer(blog):
    blog.faults.enable("no-lb")
    try:
        blog.kubectl("delete", "svc", "emojivoto-istio", "-n", "istio-ingress")
        blog.wait(f"{GW}/emojivoto", "-n", "istio-ingress",
                  "--for=jsonpath={.status.conditions[?(@.type==\"Programmed\")].reason}=AddressNotAssigned")
        view = _view(blog.explain("gateway"), "gateway-programmed")
        assert view.rule_id == "istio-lb-pending", (view.rule_id, view.observed)
        assert view.fix_command == ["kubectl", "port-forward", "-n", "istio-ingress", "svc/emojivoto-istio",
                                    "8080:8080"]
        assert "no-lb" in view.fix  # the sandbox's own flavour of the local-cluster advice
    finally:
        blog.faults.disable("no-lb")
        blog.kubectl("delete", "svc", "emojivoto-istio", "-n", "istio-ingress")
        blog.wait("--for=condition=programmed", f"{GW}/emojivoto", "-n", "istio-ingress")


def test_api_unreachable(blog):
    blog.faults.enable("api-unreachable")
    try:
        views = blog.explain("gateway")
        assert views and {v.rule_id for v in views} == {"cli-connection-refused"}, \
            [(v.rule_id, v.observed) for v in views]
        assert views[0].fix_command == ["kubectl", "cluster-info"]
    finally:
        blog.faults.disable("api-unreachable")


def _cli(blog, *args, command: str = "explain"):
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(blog.home / "state"), "HOME": str(blog.home)}
    return subprocess.run([sys.executable, "-m", "tutorial", "--kubeconfig", str(blog.kubeconfig),
                           "--context", "sandbox", command, *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_cli_exit_codes_json_text_and_default_target(blog):
    ok = _cli(blog, "emojivoto/deploy", "--json", "--timeout", "5")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True  # and emojivoto/deploy is now recorded as done
    blog.faults.enable("crashloop", selector="app=web-svc")
    try:
        _wait_web_pod(blog, "CrashLoopBackOff")
        checked = _cli(blog, "emojivoto/deploy", "--json", "--timeout", "0.5", command="check")
        assert checked.returncode == 1, checked.stderr  # check records the step as failed, too
        rows = json.loads(checked.stdout)["checks"]
        assert {r["explanation"]["rule"] for r in rows if not r["passed"]} == {"pod-crashloop"}
        assert all(r["explanation"] is None for r in rows if r["passed"])
        default = _cli(blog, "--json", "--timeout", "0.5")  # no TARGET: the steps recorded as failed
        assert default.returncode == 1, default.stderr
        rows = json.loads(default.stdout)["checks"]
        assert {(r["lesson"], r["step"]) for r in rows} == {("emojivoto", "deploy")}
        assert all(r["explanation"]["rule"] == "pod-crashloop" for r in rows if not r["passed"])
        assert "keeps crashing" in default.stderr and "kubectl logs" in default.stderr  # rich text on stderr
        blog.faults.enable("api-unreachable")
        assert _cli(blog, "emojivoto/deploy", "--timeout", "0.5").returncode == 3
    finally:
        blog.faults.disable("api-unreachable")
        blog.faults.disable("crashloop")
        _heal_web(blog)


def test_istiod_unschedulable_and_gateway_chart_image_auto(tmp_path):
    lab = Lab(tmp_path, faults=["istiod-unschedulable"])
    try:
        run = lab.engine.target.run_target()
        for argv in (["helm", "repo", "add", "istio", "https://istio-release.storage.googleapis.com/charts"],
                     ["helm", "install", "istio-base", "istio/base", "-n", "istio-system", "--create-namespace"],
                     ["helm", "install", "istiod", "istio/istiod", "-n", "istio-system"]):
            result = run_command(CommandSpec(argv=argv, timeout=60), run)
            assert result.ok, (argv, result.stderr)
        lab.wait("pod", "-l", "app=istiod", "-n", "istio-system", "--for=condition=PodScheduled=False")
        view = _view(lab.explain("istio/istiod"), "istiod-pods")  \
            if any(c.id == "istiod-pods" for c in lab.step("istio/istiod").checks) else lab.explain("istio/istiod")[0]
        assert view.rule_id == "istio-istiod-insufficient-memory", (view.rule_id, view.observed)
        assert "pilot.resources.requests.memory=512Mi" in view.fix_command
        # I01: the gateway chart while istiod is not running: its pods pull the image "auto"
        result = run_command(CommandSpec(argv=["helm", "install", "istio-ingress", "istio/gateway", "-n",
                                               "istio-ingress", "--create-namespace"], timeout=60), run)
        assert result.ok, result.stderr
        lab.wait("pod", "-l", "app=istio-ingress", "-n", "istio-ingress",
                 "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff")
        views = lab.explain("istio/ingress")
        assert views and views[0].rule_id == "istio-gateway-image-auto", [(v.rule_id, v.observed) for v in views]
        assert views[0].fix_command[:3] == ["kubectl", "delete", "pod"]
        assert "istio-injection=disabled" in views[0].why
    finally:
        lab.stop()


def test_i02_helm_wait_without_load_balancer(tmp_path):
    lab = Lab(tmp_path, faults=["no-lb"])
    try:
        run = lab.engine.target.run_target()
        run_command(CommandSpec(argv=["helm", "repo", "add", "istio", "https://istio-release.storage.googleapis.com/charts"],
                                timeout=60), run)
        result = run_command(CommandSpec(argv=["helm", "install", "istio-ingress", "istio/gateway", "-n", "istio-ingress",
                                               "--create-namespace", "--wait", "--timeout", "1s"], timeout=60), run)
        assert not result.ok
        view = explain_evidence(command_evidence(result))
        assert view.rule_id == "cli-helm-wait-timeout", (view.rule_id, result.stderr)
        assert "--wait" in view.why + view.fix and "service.type=ClusterIP" in view.fix
    finally:
        lab.stop()


def test_i04_browsing_the_gateway_charts_service(blog):
    """The istio/gateway chart's own Service (ports 80/443) is not the Gateway's Service."""
    run = blog.engine.target.run_target()
    steps = (["helm", "repo", "add", "istio", "https://istio-release.storage.googleapis.com/charts"],
             ["helm", "install", "istio-ingress", "istio/gateway", "-n", "istio-ingress"])
    for argv in steps:
        assert run_command(CommandSpec(argv=argv, timeout=60), run).ok
    try:
        blog.wait("svc/istio-ingress", "-n", "istio-ingress",
                  "--for=jsonpath={.status.loadBalancer.ingress[0].ip}")
        ip = blog.kubectl("get", "svc", "istio-ingress", "-n", "istio-ingress",
                          "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}").stdout.strip()
        from tutorial.engine.checks import CheckContext, run_check
        from tutorial.engine.evidence import gather_evidence

        params = {"url": f"http://{ip}:80/", "through_gateway": {"name": "emojivoto", "namespace": "istio-ingress"}}
        result = run_check(CheckContext(blog.engine.client), "http_get", {"url": params["url"]}, timeout=0.5,
                           check_id="browse")
        view = explain_evidence(gather_evidence(blog.engine, result, params))
        assert view.rule_id == "http-wrong-service", (view.rule_id, view.observed)
        assert "emojivoto-istio" in view.why and view.fix_command[:3] == ["kubectl", "get",
                                                                          "gateway.gateway.networking.k8s.io"]
    finally:
        run_command(CommandSpec(argv=["helm", "uninstall", "istio-ingress", "-n", "istio-ingress"], timeout=60), run)
