"""Aggregated discovery (apidiscovery.k8s.io/v2), as a Kubernetes 1.32 API server serves it: kubectl
learns every kind from /api and /apis alone; clients asking for plain JSON get the classic lists."""

from __future__ import annotations

import json
import logging

from tutorial.sandbox.bundles import gateway_api

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = f"{V2},application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"


def _get(api, path: str, accept: str):
    conn = api.connection()
    try:
        conn.request("GET", path, headers={**api.auth_headers(), "Accept": accept})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), json.loads(resp.read())
    finally:
        conn.close()


def _resource(doc: dict, group: str, version: str, plural: str) -> dict:
    entry = next(g for g in doc["items"] if g["metadata"].get("name", "") == group)
    found = next(v for v in entry["versions"] if v["version"] == version)
    assert found["freshness"] == "Current"
    return next(r for r in found["resources"] if r["resource"] == plural)


def test_apis_and_api_answer_the_aggregated_list_when_asked(api):
    status, headers, doc = _get(api, "/apis", KUBECTL_ACCEPT)
    assert status == 200 and headers["Content-Type"] == V2 and headers["Vary"] == "Accept"
    assert doc["kind"] == "APIGroupDiscoveryList" and doc["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert "" not in [g["metadata"].get("name", "") for g in doc["items"]]  # the core group is /api's
    deploy = _resource(doc, "apps", "v1", "deployments")
    assert deploy["scope"] == "Namespaced" and deploy["singularResource"] == "deployment"
    assert deploy["responseKind"] == {"group": "", "version": "", "kind": "Deployment"}
    assert "deploy" in deploy["shortNames"] and "all" in deploy["categories"] and "list" in deploy["verbs"]
    scale = next(s for s in deploy["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    _, headers, core = _get(api, "/api", KUBECTL_ACCEPT)
    assert headers["Content-Type"] == V2 and [g["metadata"] for g in core["items"]] == [{"creationTimestamp": None}]
    ns = _resource(core, "", "v1", "namespaces")
    assert ns["scope"] == "Cluster" and ns["shortNames"] == ["ns"]
    _, _, beta = _get(api, "/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList")
    assert beta["apiVersion"] == "apidiscovery.k8s.io/v2beta1"


def test_plain_json_still_gets_the_classic_documents(api):
    _, headers, groups = _get(api, "/apis", "application/json")
    assert headers["Content-Type"] == "application/json" and groups["kind"] == "APIGroupList"
    _, _, versions = _get(api, "/api", "application/json, */*")
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"]


def test_kubectl_discovers_new_crds_without_asking_each_group(api, caplog):
    with caplog.at_level(logging.DEBUG, logger="tutorial.sandbox.api.handler"):
        api.kubectl("apply", "-f", "-", input=gateway_api.text())
        api.kubectl("wait", "--for=condition=Established", "crd/gateways.gateway.networking.k8s.io", "--timeout=30s")
        api.kubectl("apply", "-f", "-", input="apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
                                              "metadata: {name: demo}\nspec: {controllerName: example.com/demo}\n")
    paths = [m.split("GET ", 1)[1].split(" ")[0].split("?")[0] for m in (r.getMessage() for r in caplog.records)
             if "GET " in m]
    per_group = [p for p in paths if p.startswith("/apis/") and p.count("/") == 3]
    assert per_group == [], per_group  # /apis/GROUP/VERSION: the classic, one-by-one discovery
    assert "/apis" in paths and "/api" in paths
    listed = api.kubectl("api-resources", "--api-group=gateway.networking.k8s.io", "-o", "name").stdout.split()
    assert "gateways.gateway.networking.k8s.io" in listed and "httproutes.gateway.networking.k8s.io" in listed
    assert "demo" in api.kubectl("get", "gatewayclass", "demo", "-o", "name").stdout
