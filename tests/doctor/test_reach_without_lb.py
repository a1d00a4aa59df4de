"""Lesson 6 without a load balancer: the check reaches the Gateway through a port-forward and says so."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tutorial.engine.portforward import ForwardError, KubectlForward, free_port, open_forward
from tutorial.engine.runner import CommandSpec, run_command
from tutorial.sandbox.cluster import pick_lb_address


def _build_until_route(engine) -> None:
    """Run the commands (not the checks) of every step up to the HTTPRoute, istioctl variant."""
    engine.progress.set_variant("istio", "istioctl")
    for _, step in engine.steps("..httproute"):
        for prepared in engine.prepare(step):
            if prepared.show_only:
                continue
            result = run_command(prepared.spec, engine.target.run_target())
            assert result.ok, f"{step.target}: {prepared.display}\n{result.stdout}\n{result.stderr}"


def _refused(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        return sock.connect_ex((parts.hostname, parts.port)) != 0


def test_no_lb_reach_the_app_passes_through_a_port_forward(sandbox_factory):
    _, engine = sandbox_factory(faults=["no-lb"])
    _build_until_route(engine)
    browse = engine.lessons.step("reach-the-app/browse")
    [result] = engine.check_step(browse, timeout=60)
    assert result.passed, result.observed
    assert result.evidence["via"] == "port-forward"
    assert "no LoadBalancer address" in result.observed
    assert "reached the Gateway through a port-forward" in result.observed
    assert "kubectl port-forward -n istio-ingress svc/emojivoto-istio" in result.observed
    assert result.evidence["url"].startswith("http://127.0.0.1:")
    assert _refused(result.evidence["url"])  # the check stopped its forward
    assert engine.progress.get("reach-the-app/browse").state == "done"
    gateway = engine.lessons.step("gateway/apply-gateway")
    programmed = [r for r in engine.check_step(gateway, timeout=1, record=False) if r.kind == "gateway_programmed"]
    assert programmed and not programmed[0].passed  # the Gateway itself still has no address

    # The forward routes like the Gateway does: without the route, the listener answers 404.
    run_command(CommandSpec(argv=["kubectl", "delete", "httproute", "emojivoto", "-n", "emojivoto"], timeout=30),
                engine.target.run_target())
    with open_forward(engine.client, engine.target.run_target(), "istio-ingress", "emojivoto-istio", 8080) \
            as (base, shown):
        assert shown.startswith("kubectl port-forward -n istio-ingress svc/emojivoto-istio ")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(base + "/", timeout=30)
        assert answer.value.code == 404
    engine.close()


def test_sandbox_forward_refuses_a_missing_service(sandbox_factory):
    _, engine = sandbox_factory()
    try:
        with open_forward(engine.client, engine.target.run_target(), "default", "nothing-here", 80):
            raise AssertionError("a forward to a missing Service must not start")
    except ForwardError as exc:
        assert 'services "nothing-here" not found' in str(exc)


def test_kubectl_forward_reports_kubectl_failure_and_ends(sandbox_factory):
    """Real kubectl against the sandbox, asked for a port the Service does not have: a clear error, no
    process left."""
    _, engine = sandbox_factory()
    target = engine.target.run_target()
    for args in (["create", "deployment", "web", "--image=nginx", "--port=80"],
                 ["expose", "deployment", "web", "--port=80"],
                 ["wait", "--for=condition=available", "deployment/web", "--timeout=30s"]):
        assert run_command(CommandSpec(argv=["kubectl", *args], timeout=30), target).ok
    forward = KubectlForward(target, "default", "web", 81, free_port())
    try:
        forward.start()
        raise AssertionError("kubectl port-forward to a port the Service lacks cannot start")
    except ForwardError as exc:
        assert "kubectl port-forward did not start" in str(exc)
        assert "does not have a service port 81" in str(exc)
    assert forward.result is not None and forward.result.exit_code not in (None, 0)


def test_an_address_another_program_holds_is_not_published_so_the_check_reaches_the_app(sandbox_factory):
    """The sandbox's load balancer publishes only addresses whose ports it holds: with 127.0.0.77:8080
    taken by another program, the Gateway gets another address, and the check goes there (the
    unreachable-address case of MetalLB on Docker Desktop is the lb-unreachable fault, below)."""
    address = pick_lb_address("127.0.0.77")
    if address != "127.0.0.77":
        pytest.skip("this OS only binds 127.0.0.1; the test needs a second loopback address")
    held = socket.socket()  # bound by someone else: the sandbox cannot serve this address
    held.bind((address, 8080))
    try:
        _, engine = sandbox_factory(lb=address)
        _build_until_route(engine)
        [result] = engine.check_step(engine.lessons.step("reach-the-app/browse"), timeout=8, record=False)
        assert result.passed, result.observed
        assert result.evidence["via"] == "address"
        assert f"http://{address}:8080/" not in result.observed
        engine.close()
    finally:
        held.close()


def test_g15_lb_unreachable_fault_cluster_healthy_host_cannot_reach_it(sandbox_factory):
    """Failure catalog G15 via the sandbox fault: the cluster says Programmed with an address, the
    address does not answer from this machine, and the check gets there through a port-forward."""
    address = pick_lb_address("127.0.0.78")
    if address != "127.0.0.78":
        pytest.skip("this OS only binds 127.0.0.1; the test needs a second loopback address")
    _, engine = sandbox_factory(faults=["lb-unreachable"], lb=address)
    _build_until_route(engine)
    [programmed] = [r for r in engine.check_step(engine.lessons.step("gateway/apply-gateway"), record=False)
                    if r.check_id == "gateway-programmed"]
    assert programmed.passed and address in programmed.observed  # the cluster's view is healthy
    assert _refused(f"http://{address}:8080/")
    [result] = engine.check_step(engine.lessons.step("reach-the-app/browse"), timeout=8, record=False)
    assert result.passed, result.observed
    assert result.evidence["via"] == "port-forward"
    assert f"http://{address}:8080/ does not answer from this machine" in result.observed
    engine.close()
