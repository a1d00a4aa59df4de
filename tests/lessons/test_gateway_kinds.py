"""Lesson 4 teaches the two Gateway kinds behind `kubectl get gateway`; what it says must be what
real kubectl 1.32 answers on the sandbox, and the short names it names must be the CRDs' own."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml

from tutorial.engine.evidence import command_evidence
from tutorial.engine.explain import explain_evidence
from tutorial.engine.runner import CommandSpec, run_command
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir
from tutorial.sandbox.simtools.charts import ISTIO_CRDS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from sandbox_engine import engine_for, require_kubectl, start_cluster  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "gateway-api-v1.3.0" / "crd-standard"
GATEWAYS_CRD = REFERENCE / "gateway.networking.k8s.io_gateways.yaml"


def _step():
    return load_lessons(lessons_dir(), assets_dir()).lesson("gateway").steps[0]


def _taught(step) -> str:
    return step.text + "\n" + "\n".join(step.hints)


def _kubectl_spans(text: str) -> list[list[str]]:
    """Every full `kubectl get ... -n NS` the lesson shows in backticks, as argv (a bare
    `kubectl get gateway` in a sentence names the resolution, not a command to run)."""
    return [a for a in (shlex.split(m) for m in re.findall(r"`(kubectl get [^`]+)`", text)) if "-n" in a]


def test_short_names_taught_are_the_crds_own():
    taught = _taught(_step())
    assert ISTIO_CRDS["gateways.networking.istio.io"][2] == ["gw"]  # Istio 1.27 crd-all.gen.yaml, as shipped
    if not GATEWAYS_CRD.exists():
        pytest.skip("shared/reference/gateway-api-v1.3.0 is not here")
    names = yaml.safe_load(GATEWAYS_CRD.read_text(encoding="utf-8"))["spec"]["names"]
    assert names["shortNames"] == ["gtw"] and names["singular"] == "gateway"
    for said in ("`networking.istio.io`", "short name `gw`", "`gateway.networking.k8s.io`", "`gtw`",
                 "`gateways.gateway.networking.k8s.io`"):
        assert said in taught, said
    explicit = [h for h in _step().hints if "kubectl get gateways.gateway.networking.k8s.io" in h]
    assert explicit, "a hint shows the explicit command"


def _run(engine, argv: list[str]):
    return run_command(CommandSpec(argv=argv, timeout=30), engine.target.run_target())


@pytest.fixture(scope="module")
def gateway_applied(tmp_path_factory):
    """A sandbox with Istio (istioctl), the Gateway API CRDs and lesson 4's Gateway applied."""
    require_kubectl()
    tmp = tmp_path_factory.mktemp("kinds")
    cluster = start_cluster(tmp)
    try:
        engine = engine_for(cluster, tmp)
        engine.progress.set_variant("istio", "istioctl")
        for _, step in engine.steps("..gateway"):
            if step.lesson_id in ("istio", "gateway-api") or step.id == "apply-gateway":
                assert engine.run_step(step).ok, step.target
        yield engine
    finally:
        cluster.stop()


def test_what_kubectl_answers_is_what_the_lesson_says(gateway_applied):
    engine = gateway_applied
    resources = _run(engine, ["kubectl", "api-resources", "--api-group=networking.istio.io"]).stdout
    assert re.search(r"^gateways\s+gw\s+networking\.istio\.io/v1\s+true\s+Gateway$", resources, re.M), resources
    resources = _run(engine, ["kubectl", "api-resources", "--api-group=gateway.networking.k8s.io"]).stdout
    assert re.search(r"^gateways\s+gtw\s+gateway\.networking\.k8s\.io/v1\s+true\s+Gateway$", resources, re.M)
    # `gateway` resolves to the Gateway API's kind (groups of equal priority in alphabetical order)
    plain = _run(engine, ["kubectl", "get", "gateway", "-n", "istio-ingress", "-o", "jsonpath={.items[*].apiVersion}"])
    assert plain.ok and plain.stdout == "gateway.networking.k8s.io/v1", plain.stdout
    gw = _run(engine, ["kubectl", "get", "gw", "-n", "istio-ingress"])
    assert gw.ok and "No resources found in istio-ingress namespace." in gw.stderr + gw.stdout
    for argv in _kubectl_spans(_taught(_step())):
        result = _run(engine, argv)
        assert result.ok, (argv, result.stderr)
        if "gw" in argv:
            assert "emojivoto" not in result.stdout, argv
        elif "describe" not in argv:
            assert re.search(r"^emojivoto\s+istio\s", result.stdout, re.M), (argv, result.stdout)
    assert len(_kubectl_spans(_taught(_step()))) >= 3


def test_a_gw_command_is_explained_with_the_explicit_one(gateway_applied):
    engine = gateway_applied
    result = _run(engine, ["kubectl", "get", "gw", "emojivoto", "-n", "istio-ingress"])
    assert not result.ok and 'gateways.networking.istio.io "emojivoto" not found' in result.stderr
    view = explain_evidence(command_evidence(result))
    assert view.rule_id == "cli-istio-gateway-short-name"
    assert "emojivoto" in view.why and "`gtw`" in view.fix
    fixed = _run(engine, view.fix_command)
    assert fixed.ok and re.search(r"^istio-ingress\s+emojivoto\s+istio\s", fixed.stdout, re.M), fixed.stdout
