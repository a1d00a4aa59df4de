"""Back to Gateway API v1.3.0 from a newer bundle, end to end on the sandbox with real kubectl.

A v1.6.1-like bundle (upstream's safe-upgrades policy and binding, the five v1.3.0 CRDs annotated
v1.6.1, and stand-ins for the five CRDs v1.6 adds) is installed over lesson 3; the API server
then refuses v1.3.0. doctor and the explanation print the same commands; running exactly those
commands installs v1.3.0, and lesson 3's checks pass again.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from tutorial.engine.evidence import Gatherer
from tutorial.engine.explain import explain_evidence, step_explanation
from tutorial.engine.preflight import TUTORIAL_ISTIO, adaptation_facts, run_preflight
from tutorial.engine.preflight_crds import V1_3_CRDS, V1_3_URL
from tutorial.engine.runner import CommandSpec, run_command
from tutorial.sandbox.bundles import gateway_api_bundle, resolve_url
from tutorial.sandbox.bundles.gateway_api import crds

SAFE_UPGRADES = Path(__file__).resolve().parents[1] / "sandbox" / "data" / "gateway-api-safe-upgrades-vap.yaml"
NEWER = "v1.6.1"
# CRDs the v1.6 standard channel adds (kubernetes-sigs/gateway-api@v1.6.1:config/crd/standard/): kind, short names.
ADDED = {"backendtlspolicies": ("BackendTLSPolicy", ["btlspolicy"]), "listenersets": ("ListenerSet", ["lset"]),
         "tcproutes": ("TCPRoute", []), "tlsroutes": ("TLSRoute", []), "udproutes": ("UDPRoute", [])}
TOO_OLD = "Installing CRDs with version before v1.5.0 is prohibited by default."


def _kubectl(engine, *args, ok=True):
    result = run_command(CommandSpec(argv=["kubectl", *args], timeout=60), engine.target.run_target())
    assert result.ok == ok, (args, result.stdout, result.stderr)
    return result


def _stand_in(plural: str) -> dict:
    """An added CRD with its real name, kind and short names; an open schema (its fields do not matter here)."""
    kind, short = ADDED[plural]
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.gateway.networking.k8s.io", "annotations": {}},
            "spec": {"group": "gateway.networking.k8s.io", "names": names, "scope": "Namespaced",
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}]}}


def newer_bundle() -> str:
    docs = crds() + [_stand_in(p) for p in ADDED]
    for crd in docs:
        crd["metadata"]["annotations"].update({"gateway.networking.k8s.io/bundle-version": NEWER,
                                               "gateway.networking.k8s.io/channel": "standard"})
    return SAFE_UPGRADES.read_text(encoding="utf-8") + "\n---\n" + yaml.safe_dump_all(docs)


def _commands(text: str) -> list[list[str]]:
    return [shlex.split(c) for c in re.findall(r"`(kubectl [^`]+)`", text)]


def _istio_check_evidence(engine) -> dict:
    """A failing istiod check's evidence with the CRD facts gathered from the cluster itself."""
    ev = {"check": {"id": "istiod-ready", "kind": "deployment_available", "title": "istiod is available",
                    "passed": False, "observed": "0/1 available"},
          "params": {"namespace": "istio-system", "name": "istiod"},
          "pods": [{"name": "istiod-7d4f9c-abcde", "namespace": "istio-system", "phase": "Running", "ready": False,
                    "state": "Running"}]}
    g = Gatherer(engine.client, ev)
    g.istio()
    g.crd_versions()
    return ev


def test_newer_bundle_refused_then_the_shown_commands_install_v1_3(sandbox_factory):
    _, engine = sandbox_factory()
    engine.progress.set_variant("istio", "istioctl")
    for _, step in engine.steps("..gateway-api"):
        if step.lesson_id in ("istio", "gateway-api"):
            assert engine.run_step(step).ok, step.target
    applied = run_command(CommandSpec(argv=["kubectl", "apply", "-f", "-"], timeout=60, stdin=newer_bundle()),
                          engine.target.run_target())
    assert applied.ok, applied.stderr
    refused = _kubectl(engine, "apply", "-f", str(gateway_api_bundle()), ok=False)
    assert TOO_OLD in refused.stderr and "safe-upgrades.gateway.networking.k8s.io" in refused.stderr

    step = engine.steps("gateway-api")[0][1]
    outcome = engine.run_step(step)  # lesson 3 as the learner runs it: the apply is refused and explained
    assert not outcome.ok and TOO_OLD in outcome.failed_command.stderr
    said = step_explanation(engine, step, outcome.checks, outcome.failed_command)
    assert said["rule"] == "cli-gateway-api-downgrade-refused" and "`kubectl delete crd NAME`" in said["fix"]
    assert said["fix_command"] == ["kubectl", "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy",
                                   "safe-upgrades.gateway.networking.k8s.io", "--ignore-not-found"]

    report = run_preflight(engine.target, engine.client, tools=False)
    finding = next(f for f in report.findings if f.id == "gateway-api")
    assert finding.severity == "block" and "Keep yours" not in finding.fix
    doctor = _commands(finding.fix)
    view = explain_evidence(_istio_check_evidence(engine))
    assert view.rule_id == "istio-crds-too-new", view.title
    assert _commands(view.fix) == doctor, (view.fix, finding.fix)
    assert view.fix_command == doctor[0]
    extra = sorted(f"{p}.gateway.networking.k8s.io" for p in ADDED)
    assert doctor == [["kubectl", "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy",
                       "safe-upgrades.gateway.networking.k8s.io", "--ignore-not-found"],
                      ["kubectl", "delete", "crd", *extra], ["kubectl", "apply", "-f", V1_3_URL]]

    for argv in doctor:  # exactly what the learner is shown; the URL read from the bundled copy
        _kubectl(engine, *[str(resolve_url(a)) if a == V1_3_URL else a for a in argv[1:]])
    names = _kubectl(engine, "get", "crd", "-o", "name").stdout
    assert not any(p in names for p in ADDED)
    versions = _kubectl(engine, "get", "crd", *V1_3_CRDS, "-o",
                        "jsonpath={.items[*].metadata.annotations.gateway\\.networking\\.k8s\\.io/bundle-version}")
    assert versions.stdout.split() == ["v1.3.0"] * 5, versions.stdout
    assert "safe-upgrades" not in _kubectl(engine, "get", "validatingadmissionpolicies,"
                                           "validatingadmissionpolicybindings", "-o", "name").stdout
    assert all(r.passed for r in engine.check_step(step)), "lesson 3's checks pass on v1.3.0"
    again = run_preflight(engine.target, engine.client, tools=False)
    assert next(f for f in again.findings if f.id == "gateway-api").severity == "ok"


def test_newer_crds_before_istio_block_for_the_istio_lesson_2_installs(sandbox_factory):
    """CRDs v1.6.1 on a cluster without Istio: not "keep yours", since lesson 2 installs Istio 1.27."""
    _, engine = sandbox_factory()
    applied = run_command(CommandSpec(argv=["kubectl", "apply", "-f", "-"], timeout=60, stdin=newer_bundle()),
                          engine.target.run_target())
    assert applied.ok, applied.stderr
    report = run_preflight(engine.target, engine.client, tools=False)
    crds, pairing = (next(f for f in report.findings if f.id == i) for i in ("gateway-api", "pairing"))
    assert pairing.severity == "block" and pairing.found.startswith("no Istio yet; lesson 2 installs Istio 1.27.1")
    assert crds.severity == "block" and "Keep yours" not in crds.fix
    assert _commands(crds.fix)[1][:3] == ["kubectl", "delete", "crd"]
    assert adaptation_facts(report)["gateway_api_newer"] is False  # lesson 3 replaces them, as doctor says
    lesson_2_lines = (Path(__file__).resolve().parents[2] / "lessons" / "02-istio.yaml").read_text(encoding="utf-8")
    assert f"istio_version: {TUTORIAL_ISTIO}" in lesson_2_lines
