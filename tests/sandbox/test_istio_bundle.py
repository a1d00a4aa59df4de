"""The bundled upstream Gateway API v1.3.0 CRDs: the facts kubectl and istiod depend on, and the URL mapping."""

from __future__ import annotations

import hashlib

import yaml

from tutorial.sandbox.bundles import GATEWAY_API_URL, gateway_api_bundle, resolve_url
from tutorial.sandbox.bundles.gateway_api import crds, render_yaml

WAITING = {"lastTransitionTime": "1970-01-01T00:00:00Z", "message": "Waiting for controller",
           "reason": "Pending", "status": "Unknown"}


def _by_name() -> dict[str, dict]:
    return {c["metadata"]["name"].split(".")[0]: c for c in crds()}


def test_url_resolves_to_the_committed_bundle():
    assert resolve_url(GATEWAY_API_URL) == gateway_api_bundle()
    assert resolve_url("https://example.com/other.yaml") is None
    assert gateway_api_bundle().read_text(encoding="utf-8") == render_yaml()
    digest = hashlib.sha256(gateway_api_bundle().read_bytes()).hexdigest()
    assert digest == "78796d5c51450fc55d8dc8092ba8137f8c807982d7508d7875d5c537a24082b9"  # the upstream file


def test_schemas_carry_upstream_descriptions_and_cel_rules():
    schema = _by_name()["httproutes"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    rules = schema["properties"]["spec"]["properties"]["rules"]
    assert rules["description"].startswith("Rules are a list of HTTP matchers, filters and actions.")
    assert any(r["message"] == "RequestRedirect filter must not be used together with backendRefs"
               for r in rules["items"]["x-kubernetes-validations"])


def test_names_scope_versions_and_short_names():
    found = {name: (c["spec"]["scope"], [(v["name"], v["served"], v["storage"]) for v in c["spec"]["versions"]],
                    c["spec"]["names"].get("shortNames", []), c["spec"]["names"]["categories"])
             for name, c in _by_name().items()}
    assert found == {
        "gatewayclasses": ("Cluster", [("v1", True, True), ("v1beta1", True, False)], ["gc"], ["gateway-api"]),
        "gateways": ("Namespaced", [("v1", True, True), ("v1beta1", True, False)], ["gtw"], ["gateway-api"]),
        "grpcroutes": ("Namespaced", [("v1", True, True)], [], ["gateway-api"]),
        "httproutes": ("Namespaced", [("v1", True, True), ("v1beta1", True, False)], [], ["gateway-api"]),
        "referencegrants": ("Namespaced", [("v1beta1", True, True)], ["refgrant"], ["gateway-api"]),
    }
    for crd in crds():
        assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.3.0"


def test_printer_columns_and_default_status():
    crd = _by_name()
    columns = {n: [c["name"] for c in crd[n]["spec"]["versions"][0]["additionalPrinterColumns"]]
               for n in ("gatewayclasses", "gateways", "httproutes")}
    assert columns == {"gatewayclasses": ["Controller", "Accepted", "Age", "Description"],
                       "gateways": ["Class", "Address", "Programmed", "Age"], "httproutes": ["Hostnames", "Age"]}
    schema = crd["gateways"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["properties"]["status"]["default"]["conditions"] == [
        {**WAITING, "type": "Accepted"}, {**WAITING, "type": "Programmed"}]
    gc_schema = crd["gatewayclasses"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert gc_schema["properties"]["status"]["default"]["conditions"] == [{**WAITING, "type": "Accepted"}]
    assert len(list(yaml.safe_load_all(render_yaml()))) == 5
