"""doctor on the sandbox: a healthy cluster, no load balancer, istiod unschedulable, API unreachable."""

from __future__ import annotations

import json
import subprocess

from tutorial.cli import main
from tutorial.engine.portforward import lb_ingress
from tutorial.engine.preflight import run_preflight
from tutorial.engine.runner import CommandSpec, run_command


def _finding(report, fid):
    return next(f for f in report.findings if f.id == fid)


def _kubectl(engine, *args):
    result = run_command(CommandSpec(argv=["kubectl", *args], timeout=30), engine.target.run_target())
    assert result.ok, result.stderr
    return result.stdout


def test_healthy_sandbox_blocks_nothing(sandbox_factory):
    _, engine = sandbox_factory()
    report = run_preflight(engine.target, engine.client)
    assert report.exit_code() == 0, [f for f in report.findings if f.severity == "block"]
    assert report.facts["cluster_kind"] == "sandbox"
    assert "sandbox (simulated)" in _finding(report, "cluster.kind").found
    assert report.facts["tools"]["istioctl"] and report.facts["tools"]["helm"]  # the simulated ones
    assert report.facts["istio"] is None and report.facts["gateway_api"]["present"] is False
    assert _finding(report, "rbac").severity == "ok"


def test_load_balancer_that_works_is_reported_with_its_address(sandbox_factory):
    _, engine = sandbox_factory()
    _kubectl(engine, "create", "service", "loadbalancer", "probe", "--tcp=80:8080")
    svc = engine.client.resource("v1", "Service")
    got = engine.client.wait_for(svc, "default", lambda items: bool(items and lb_ingress(items[0])),
                                 name="probe", timeout=20)
    assert got.passed
    report = run_preflight(engine.target, engine.client, tools=False)
    lb = _finding(report, "loadbalancer")
    assert report.facts["lb_available"] is True and lb.severity == "ok"
    assert "default/probe=" in lb.found


def test_no_lb_fault_is_found_with_consequence_and_fix(sandbox_factory):
    _, engine = sandbox_factory(faults=["no-lb"])
    _kubectl(engine, "create", "service", "loadbalancer", "probe", "--tcp=80:8080")
    report = run_preflight(engine.target, engine.client, tools=False)
    lb = _finding(report, "loadbalancer")
    assert report.facts["lb_available"] is False
    assert lb.severity == "warn" and "default/probe" in lb.found
    assert "port-forward" in lb.consequence and "no-lb" in lb.fix
    assert report.exit_code() == 0  # the tutorial adapts: a warning, not a blocker


def test_unschedulable_istiod_blocks_with_the_scheduler_message(sandbox_factory):
    _, engine = sandbox_factory(faults=["istiod-unschedulable"])
    assert engine.run_step(engine.lessons.step("istio/base")).commands_ok
    result = run_command(CommandSpec(argv=["helm", "install", "istiod", "istio/istiod", "-n", "istio-system",
                                           "--version", "1.27.1"], timeout=60), engine.target.run_target())
    assert result.ok, result.stdout + result.stderr
    pods = engine.client.resource("v1", "Pod")
    unscheduled = engine.client.wait_for(pods, "istio-system", lambda items: any(
        c.get("reason") == "Unschedulable" for p in items for c in p.get("status", {}).get("conditions") or []),
        label_selector="app=istiod", timeout=20)
    assert unscheduled.passed
    report = run_preflight(engine.target, engine.client, tools=False)
    istio = _finding(report, "istio")
    assert istio.severity == "block" and report.exit_code() == 1
    assert "Insufficient memory" in istio.found and "1.27.1" in istio.found
    assert "memory" in istio.fix and "helm upgrade istiod" in istio.fix
    assert report.facts["istio"]["installer"] == "helm" and report.facts["istio"]["ready"] is False


def test_unreachable_api_exits_3_and_still_reports_tools(sandbox_factory):
    _, engine = sandbox_factory(faults=["api-unreachable"])
    report = run_preflight(engine.target, engine.client)
    assert report.exit_code() == 3 and report.unreachable
    reach = _finding(report, "cluster.reachable")
    assert reach.severity == "block" and "connection refused" in reach.found
    assert "--sandbox" in reach.fix
    assert _finding(report, "tool.kubectl").severity == "ok"
    assert not any(f.id == "loadbalancer" for f in report.findings)


def test_doctor_cli_json_and_exit_code_on_unreachable(sandbox_factory, capsys):
    _, engine = sandbox_factory(faults=["api-unreachable"])
    code = main(["--kubeconfig", engine.target.kubeconfig, "--context", "sandbox", "doctor", "--json", "--no-tools"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 3 and doc["exit_code"] == 3 and doc["facts"]["reachable"] is False
    assert doc["findings"][0]["severity"] == "block"


def test_doctor_cli_text_lists_findings_and_summary(sandbox_factory, capsys):
    _, engine = sandbox_factory(faults=["no-lb"])
    _kubectl(engine, "create", "service", "loadbalancer", "probe", "--tcp=80:8080")
    code = main(["--kubeconfig", engine.target.kubeconfig, "--context", "sandbox", "doctor", "--no-tools", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "LoadBalancer addresses" in out and "fix:" in out
    assert "kind of cluster" not in out  # --quiet hides info findings
    assert "Nothing blocks the lessons; 1 warning(s)." in " ".join(out.split())


def test_doctor_cli_is_a_subprocess_that_works(sandbox_factory):
    """The installed entry point, as a learner runs it: exit 0 on a healthy cluster."""
    import sys

    _, engine = sandbox_factory()
    proc = subprocess.run([sys.executable, "-m", "tutorial", "--kubeconfig", engine.target.kubeconfig,
                           "--context", "sandbox", "doctor", "--json", "--no-tools"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["facts"]["cluster_kind"] == "sandbox"


def test_adaptation_facts_after_istio_and_crds(sandbox_factory):
    """What the engine branches on: Istio ready with its version and installer, CRDs and their version."""
    from tutorial.engine.preflight import adaptation_facts

    _, engine = sandbox_factory()
    engine.progress.set_variant("istio", "istioctl")
    for _, step in engine.steps("..gateway-api"):
        if step.lesson_id in ("istio", "gateway-api"):
            assert engine.run_step(step).ok, step.target
    facts = adaptation_facts(run_preflight(engine.target, engine.client, tools=False))
    assert facts["istio_ready"] and facts["istio_version"] == "1.27.1" and facts["istio_installer"] == "istioctl"
    assert facts["gateway_api_present"] and facts["gateway_api_version"] == "v1.3.0"
    assert facts["gateway_api_newer"] is False
    assert facts["lb_available"] is True and facts["cluster_kind"] == "sandbox"


def test_crds_newer_than_istio_supports_doctor_and_lesson_3_agree(sandbox_factory):
    """CRDs v1.5 with Istio 1.27: doctor blocks (never "keep yours" beside the pairing blocker), names
    the safe-upgrades policy to remove, and lesson 3 replaces the CRDs instead of only verifying them."""
    from tutorial.engine.preflight import adaptation_facts

    _, engine = sandbox_factory()
    engine.progress.set_variant("istio", "istioctl")
    for _, step in engine.steps("..gateway-api"):
        if step.lesson_id in ("istio", "gateway-api"):
            assert engine.run_step(step).ok, step.target
    for crd in ("gateways", "httproutes", "gatewayclasses"):
        _kubectl(engine, "annotate", "--overwrite", "crd", f"{crd}.gateway.networking.k8s.io",
                 "gateway.networking.k8s.io/bundle-version=v1.5.0")
    report = run_preflight(engine.target, engine.client, tools=False)
    crds, pairing = _finding(report, "gateway-api"), _finding(report, "pairing")
    assert pairing.severity == "block" and crds.severity == "block"
    assert "Keep yours" not in crds.fix and "safe-upgrades.gateway.networking.k8s.io" in crds.fix
    assert adaptation_facts(report)["gateway_api_newer"] is False
    engine.preflight(refresh=True)  # what lesson 3 decides from, read again
    assert engine.verify_instead(engine.steps("gateway-api")[0][1]) == ""
