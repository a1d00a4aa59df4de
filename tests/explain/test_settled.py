"""Checks tell *settled wrong* from *still converging*: each terminal state ends the wait with a
failed verdict that says why (`settled`), long before the check's timeout would; a state that
converges by itself still passes. Asserts are on verdicts and reasons, never on time."""

from __future__ import annotations

import pytest
import yaml

from tutorial.paths import assets_dir

GW, RT = "gateway.networking.k8s.io", "httproute"
LONG = 90.0  # a timeout no test should reach: a settled state ends the wait well before


def _asset(name: str) -> dict:
    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())


def _check(lab, target: str, check_id: str, *, ran: bool = False, timeout: float = LONG):
    step = lab.step(target)
    chk = next(c for c in step.checks if c.id == check_id)
    return lab.engine.run_checks([(step, chk)], timeout=timeout, ran=ran)[0]


def _assert_settled(result, *words: str) -> None:
    assert not result.passed, result.observed
    assert result.settled, f"not settled: {result.observed}"
    missing = [w for w in words if w not in result.settled]
    assert not missing, f"{missing} not in {result.settled!r}"
    assert not result.cancelled


@pytest.fixture
def restore(blog):
    yield blog
    blog.apply(yaml.safe_dump(_asset("gateway.yaml")) + "---\n" + yaml.safe_dump(_asset("httproute.yaml")))
    blog.kubectl("scale", "deploy/web", "-n", "emojivoto", "--replicas=1")
    blog.wait("--for=condition=programmed", f"gateways.{GW}/emojivoto", "-n", "istio-ingress")
    blog.wait("--for=condition=Available", "deployment/web", "-n", "emojivoto")


def test_deployment_scaled_to_zero_fails_at_once(restore):
    restore.kubectl("scale", "deploy/web", "-n", "emojivoto", "--replicas=0")
    results = {r.check_id: r for r in restore.engine.check_step(restore.step("emojivoto/deploy"), timeout=LONG,
                                                                 record=False)}
    _assert_settled(results["deployments-available"], "web", "scaled to 0")
    # the step has failed: its other waiting check stops too, and says which check decided it
    _assert_settled(results["pods-ready"], "stopped waiting", "The four Deployments are available")


def test_route_not_allowed_by_listeners_fails_at_once(restore):
    gw = _asset("gateway.yaml")
    gw["spec"]["listeners"][0].pop("allowedRoutes")
    restore.apply(yaml.safe_dump(gw))
    restore.wait(f"--for=jsonpath={{.status.parents[0].conditions[0].reason}}=NotAllowedByListeners",
                 f"{RT}/emojivoto", "-n", "emojivoto")
    _assert_settled(_check(restore, "httproute/apply-route", "route-accepted"), "NotAllowedByListeners")


def test_parentref_port_mismatch_fails_at_once(restore):
    rt = _asset("httproute.yaml")
    rt["spec"]["parentRefs"][0]["port"] = 80
    restore.apply(yaml.safe_dump(rt))
    _assert_settled(_check(restore, "httproute/apply-route", "route-accepted"), "NoMatchingParent")


def test_backend_not_found_fails_once_it_stood(restore):
    rt = _asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    restore.apply(yaml.safe_dump(rt))
    _assert_settled(_check(restore, "httproute/apply-route", "route-accepted"), "BackendNotFound")


def test_lower_case_listener_protocol_fails_at_once(restore):
    gw = _asset("gateway.yaml")
    gw["spec"]["listeners"][0]["protocol"] = "http"
    restore.apply(yaml.safe_dump(gw))
    restore.wait("--for=jsonpath={.status.listeners[0].conditions[0].reason}=UnsupportedProtocol",
                 f"gateways.{GW}/emojivoto", "-n", "istio-ingress")
    _assert_settled(_check(restore, "gateway/apply-gateway", "listener-accepted"), "UnsupportedProtocol")


def test_route_missing_after_its_command_succeeded(restore):
    restore.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
    result = _check(restore, "httproute/apply-route", "route-accepted", ran=True)
    _assert_settled(result, "HTTPRoute", "emojivoto", "not found")


def test_route_missing_on_a_plain_check_settles_too(restore):
    restore.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
    _assert_settled(_check(restore, "httproute/apply-route", "route-accepted"), "HTTPRoute", "not found")


def test_gateway_class_typo_settles(restore):
    gw = _asset("gateway.yaml")
    gw["spec"]["gatewayClassName"] = "istio-gateway"
    restore.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress")
    restore.apply(yaml.safe_dump(gw))
    _assert_settled(_check(restore, "gateway/apply-gateway", "gateway-accepted"), "istio-gateway", "does not exist")


def test_gateway_class_changed_in_place_to_a_typo_settles(restore):
    """Edited, not re-created: the old status (Accepted True, observedGeneration behind) stays, as
    Istio leaves it for a class it does not own; the check must not wait for it to change."""
    restore.kubectl("patch", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress", "--type=merge",
                    "-p", '{"spec":{"gatewayClassName":"istio-gateway"}}')
    result = _check(restore, "gateway/apply-gateway", "gateway-accepted")
    _assert_settled(result, "istio-gateway", "does not exist", "observedGeneration stays behind")
    views = restore.explain("gateway/apply-gateway", only="gateway-accepted")
    assert [v.rule_id for v in views] == ["class-not-found"], [(v.rule_id, v.title) for v in views]
    assert "istio-gateway" in views[0].title


def test_parent_gateway_missing_settles(restore):
    rt = _asset("httproute.yaml")
    del rt["spec"]["parentRefs"][0]["namespace"]
    restore.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
    restore.apply(yaml.safe_dump(rt))
    _assert_settled(_check(restore, "httproute/apply-route", "route-accepted"), "emojivoto/emojivoto",
                    "does not exist")


def test_same_404_through_an_attached_route_settles(restore):
    step = restore.step("reach-the-app")
    if not any(c.kind == "http_get" for c in step.checks):
        pytest.skip("the reach-the-app step has no http_get check")
    rt = _asset("httproute.yaml")
    rt["spec"]["hostnames"] = ["emojivoto.example.com"]
    restore.apply(yaml.safe_dump(rt))
    restore.wait("--for=jsonpath={.status.parents[0].conditions[0].reason}=Accepted", f"{RT}/emojivoto",
                 "-n", "emojivoto")
    chk = next(c for c in step.checks if c.kind == "http_get")
    result = restore.engine.run_checks([(step, chk)], timeout=LONG)[0]
    _assert_settled(result, "HTTP 404", "in a row")


def _restart(lab, deploy: str, ns: str) -> None:
    """kubectl refuses a second restart within a second of the first; wait that second out."""
    import time

    for _ in range(3):
        if lab.kubectl("rollout", "restart", deploy, "-n", ns, check=False).returncode == 0:
            break
        time.sleep(1.1)
    lab.kubectl("rollout", "status", deploy, "-n", ns, "--timeout=60s")


def test_image_pull_backoff_fails_at_once(blog):
    blog.faults.enable("image-pull", images=["emojivoto-web"])
    try:
        blog.kubectl("delete", "deployment", "web", "-n", "emojivoto")
        outcome = blog.engine.run_step(blog.step("emojivoto/deploy"), check_timeout=LONG)
        decided = [r for r in outcome.checks if r.settled and not r.evidence.get("stopped_by_sibling")]
        assert decided, [(r.check_id, r.observed) for r in outcome.checks]
        _assert_settled(decided[0], "pod web-")
        assert any(r in decided[0].settled for r in ("ErrImagePull", "ImagePullBackOff")), decided[0].settled
        assert all(r.settled for r in outcome.checks if not r.passed)  # the others stopped waiting too
    finally:
        blog.faults.disable("image-pull")
        _restart(blog, "deployment/web", "emojivoto")


def test_crashloop_fails_at_once(blog):
    blog.faults.enable("crashloop", selector="app=web-svc")
    try:
        blog.wait("pod", "-l", "app=web-svc", "-n", "emojivoto",
                  "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff")
        result = _check(blog, "emojivoto/deploy", "pods-ready")
        _assert_settled(result, "CrashLoopBackOff")
    finally:
        blog.faults.disable("crashloop")
        _restart(blog, "deployment/web", "emojivoto")


def test_istiod_unschedulable_fails_at_once(blog):
    blog.faults.enable("istiod-unschedulable")
    try:
        blog.kubectl("scale", "deployment/istiod", "-n", "istio-system", "--replicas=0")
        blog.kubectl("wait", "--for=delete", "pod", "-l", "app=istiod", "-n", "istio-system", "--timeout=60s")
        blog.kubectl("scale", "deployment/istiod", "-n", "istio-system", "--replicas=1")
        step = next(s for _, s in blog.engine.steps("istio") if any(c.id == "istiod-available" for c in s.checks))
        chk = next(c for c in step.checks if c.id == "istiod-available")
        result = blog.engine.run_checks([(step, chk)], timeout=LONG)[0]
        _assert_settled(result, "Unschedulable")
    finally:
        blog.faults.disable("istiod-unschedulable")
        _restart(blog, "deployment/istiod", "istio-system")


def test_slow_but_converging_still_passes(tmp_path):
    """Under the slow-controllers fault every controller takes five times longer: pods sit in
    Pending and ContainerCreating, the Gateway waits for its controller; none of that is settled."""
    from sandboxlab import Lab

    lab = Lab(tmp_path, faults=["slow-controllers"])
    try:
        lab.engine.progress.set_variant("istio", "istioctl")
        step = lab.step("gateway-api/crds-and-class")
        crds = next(c for c in step.checks if c.kind == "crd_established")
        _assert_settled(lab.engine.run_checks([(step, crds)], timeout=LONG)[0], "not installed")
        for lesson, step in lab.engine.steps("..gateway/apply-gateway"):
            if lesson.id == "before-you-start":
                continue
            outcome = lab.engine.run_step(step, solve=True, check_timeout=LONG)
            settled = [(r.check_id, r.settled) for r in outcome.checks if r.settled]
            assert outcome.ok and not settled, (step.target, settled,
                                                [(r.check_id, r.observed) for r in outcome.checks])
    finally:
        lab.stop()
