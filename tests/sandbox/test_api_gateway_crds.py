"""The real Gateway API v1.3.0 standard install applies to the sandbox and its kinds are served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

INSTALL = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "gateway-api-v1.3.0" / \
    "standard-install.yaml"

pytestmark = pytest.mark.skipif(not INSTALL.exists(),
                                reason=f"Gateway API reference manifests are absent ({INSTALL})")

CRDS = ["gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants"]


@pytest.fixture(scope="module")
def gw(module_api):
    out = module_api.kubectl("apply", "-f", str(INSTALL.resolve())).stdout
    assert "customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io created" in out
    return module_api


def test_crds_become_established(gw):
    names = [f"crd/{c}.gateway.networking.k8s.io" for c in CRDS]
    out = gw.kubectl("wait", "--for=condition=Established", *names, "--timeout=30s").stdout
    assert out.count("condition met") == len(CRDS)


def test_kinds_served_with_short_names_and_columns(gw):
    res = [row.split() for row in gw.kubectl("api-resources", "--api-group=gateway.networking.k8s.io").stdout
           .splitlines()]
    assert ["gateways", "gtw", "gateway.networking.k8s.io/v1", "true", "Gateway"] in res
    assert ["gatewayclasses", "gc", "gateway.networking.k8s.io/v1", "false", "GatewayClass"] in res
    gw.kubectl("apply", "-f", "-", input="""
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sandbox}
spec: {controllerName: example.com/gateway-controller}
""")
    table = gw.kubectl("get", "gatewayclass").stdout.splitlines()
    assert table[0].split() == ["NAME", "CONTROLLER", "ACCEPTED", "AGE"]
    # the schema default status ("Waiting for controller") was applied on creation
    assert table[1].split()[:3] == ["sandbox", "example.com/gateway-controller", "Unknown"]
    assert "DESCRIPTION" in gw.kubectl("get", "gc", "-o", "wide").stdout


def test_gateway_and_route_round_trip(gw):
    gw.kubectl("create", "ns", "edge")
    gw.kubectl("apply", "-f", "-", input="""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: edge}
spec:
  gatewayClassName: sandbox
  listeners:
  - {name: http, protocol: HTTP, port: 80}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: edge}
spec:
  parentRefs: [{name: web}]
  hostnames: [web.example.com]
  rules:
  - backendRefs: [{name: web, port: 80}]
""")
    table = gw.kubectl("-n", "edge", "get", "gtw").stdout.splitlines()
    assert table[0].split() == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED", "AGE"]
    assert table[1].split()[:2] == ["web", "sandbox"]
    g = json.loads(gw.kubectl("-n", "edge", "get", "gateway", "web", "-o", "json").stdout)
    conds = {c["type"]: c["reason"] for c in g["status"]["conditions"]}
    assert conds == {"Accepted": "Pending", "Programmed": "Pending"}
    route = json.loads(gw.kubectl("-n", "edge", "get", "httproute", "web", "-o", "json").stdout)
    assert route["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    # a re-apply of a custom resource goes through JSON merge patch
    gw.kubectl("-n", "edge", "patch", "httproute", "web", "--type=merge", "-p",
               '{"spec": {"hostnames": ["shop.example.com"]}}')
    assert "shop.example.com" in gw.kubectl("-n", "edge", "get", "httproute").stdout


def test_kubectl_explain_reads_the_crd_schema(gw):
    out = gw.kubectl("explain", "gateway.spec.listeners").stdout
    assert "KIND:       Gateway" in out and "FIELD: listeners <[]Object>" in out
    assert "protocol\t<string> -required-" in gw.kubectl("explain", "gateway.spec.listeners", "--recursive").stdout


def test_unknown_fields_strict_for_kubectl_and_pruned_otherwise(gw):
    typo = ("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: typo, namespace: default}\n"
            "spec: {gatewayClassName: x, listeners: [{name: http, port: 80, protocol: HTTP, hostnme: a}]}\n")
    proc = gw.kubectl("apply", "-f", "-", input=typo, check=False)
    assert proc.returncode != 0
    assert ('Gateway in version "v1" cannot be handled as a Gateway: strict decoding error: '
            'unknown field "spec.listeners[0].hostnme"') in proc.stderr
    gw.kubectl("apply", "--validate=false", "-f", "-", input=typo)
    listener = json.loads(gw.kubectl("get", "gtw", "typo", "-o", "json").stdout)["spec"]["listeners"][0]
    assert "hostnme" not in listener and listener["name"] == "http"
    missing = gw.kubectl("apply", "-f", "-", check=False, input=typo.replace(
        "listeners: [{name: http, port: 80, protocol: HTTP, hostnme: a}]", "listeners: []").replace("typo", "empty"))
    assert 'The Gateway "empty" is invalid: spec.listeners' in missing.stderr
