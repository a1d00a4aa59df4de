"""Every CEL rule of the Gateway API v1.3.0 standard CRDs, enforced by the sandbox API server.

The rules are read from the bundled upstream CRDs (not listed here), so a rule without a case
in data/gateway_api_v1_3_cel_cases.yaml fails the test. For each place a rule applies, in every
served version, one object passes (201) and one is refused (422) with the rule's own message in
the API server's words, over HTTP; a representative subset goes through real kubectl 1.32.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path

import pytest
import yaml
from test_api_http import request

from tutorial.sandbox.bundles import gateway_api_bundle
from tutorial.sandbox.bundles.gateway_api import GROUP, crds

CASES = {k: v for k, v in yaml.safe_load((Path(__file__).parent / "data" / "gateway_api_v1_3_cel_cases.yaml")
                                         .read_text(encoding="utf-8")).items() if not k.startswith("_")}
KINDS = {"gatewayclasses": "GatewayClass", "gateways": "Gateway", "httproutes": "HTTPRoute", "grpcroutes": "GRPCRoute",
         "referencegrants": "ReferenceGrant"}
BASE = {"gatewayclasses": {"controllerName": "example.com/gc"},
        "gateways": {"gatewayClassName": "gc", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
        "httproutes": {}, "grpcroutes": {}}
FILL = {"backendRefs": {"name": "web", "port": 8080}, "listeners": {"name": "l", "port": 443, "protocol": "HTTPS"},
        "requestMirror": {"backendRef": {"name": "mirror", "port": 8080}}}
FILTER_TYPES = {"requestMirror": "RequestMirror", "requestRedirect": "RequestRedirect", "urlRewrite": "URLRewrite",
                "requestHeaderModifier": "RequestHeaderModifier", "responseHeaderModifier": "ResponseHeaderModifier",
                "extensionRef": "ExtensionRef"}
NS = "cel"
_names = itertools.count()


def _locations() -> list[tuple[str, str, str, dict, str]]:
    """(plural, version, schema path, rule, schema type) for every rule in the upstream CRDs."""
    found = []

    def walk(schema, path, plural, version):
        for rule in schema.get("x-kubernetes-validations") or []:
            found.append((plural, version, path, rule, schema.get("type", "object")))
        for key, sub in (schema.get("properties") or {}).items():
            walk(sub, f"{path}.{key}", plural, version)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{path}[*]", plural, version)

    for crd in crds():
        for v in crd["spec"]["versions"]:
            walk(v["schema"]["openAPIV3Schema"], "", crd["spec"]["names"]["plural"], v["name"])
    return found


LOCATIONS = _locations()


def _segments(path: str) -> list[tuple[str, bool]]:
    return [(m.group(1), bool(m.group(2))) for m in re.finditer(r"\.([A-Za-z]+)(\[\*\])?", path)]


def place(plural: str, path: str, value) -> dict:
    """A spec (or status) with value at path and the fields its ancestors need filled in."""
    root = {"spec": copy.deepcopy(BASE[plural])}
    node, segs = root, _segments(path)
    for i, (name, is_list) in enumerate(segs):
        if i == len(segs) - 1:
            node[name] = [value] if is_list else value
            break
        if name == "spec":
            node = root["spec"]
            continue
        child = copy.deepcopy(FILL.get(name, {}))
        if name == "filters":
            child = {"type": FILTER_TYPES[segs[i + 1][0]]}
        node[name] = [child] if is_list else child
        node = child
    return root


def _values(case: dict, plural: str) -> tuple:
    prefix = "grpc_" if plural == "grpcroutes" and "grpc_pass" in case else ""
    fail = case.get(prefix + "fail")
    if "fail_long_prefix" in case:
        fail = {"a" * case["fail_long_prefix"] + "/n": "1"}
    return case[prefix + "pass"], fail


def _object(plural: str, version: str, body: dict) -> dict:
    meta = {"name": f"c{next(_names)}"}
    if plural != "gatewayclasses":
        meta["namespace"] = NS
    return {"apiVersion": f"{GROUP}/{version}", "kind": KINDS[plural], "metadata": meta, **body}


def _url(plural: str, version: str, name: str = "") -> str:
    ns = "" if plural == "gatewayclasses" else f"/namespaces/{NS}"
    return f"/apis/{GROUP}/{version}{ns}/{plural}" + (f"/{name}" if name else "")


def _write(api, plural, version, path, value, old):
    """Create (or, for a transition rule, create with old then update); the final answer."""
    if path.startswith(".status"):
        obj = _object(plural, version, {"spec": copy.deepcopy(BASE[plural])})
        code, created, _ = request(api, "POST", _url(plural, version), obj)
        assert code == 201, created
        created.update(place(plural, path, value))
        created.pop("spec")
        created["spec"] = copy.deepcopy(BASE[plural])
        return request(api, "PUT", _url(plural, version, obj["metadata"]["name"]) + "/status", created)[:2]
    if old is not None:
        obj = _object(plural, version, place(plural, path, old))
        code, created, _ = request(api, "POST", _url(plural, version), obj)
        assert code == 201, created
        created.update(place(plural, path, value))
        return request(api, "PUT", _url(plural, version, obj["metadata"]["name"]), created)[:2]
    return request(api, "POST", _url(plural, version), _object(plural, version, place(plural, path, value)))[:2]


@pytest.fixture(scope="module")
def gw(module_api):
    module_api.kubectl("apply", "-f", str(gateway_api_bundle()))
    module_api.kubectl("create", "ns", NS)
    return module_api


def test_every_rule_has_a_case():
    messages = {rule["message"] for *_, rule, _ in LOCATIONS}
    assert len(LOCATIONS) == 219 and len(messages) == 61
    assert sorted(messages - set(CASES)) == []


@pytest.mark.parametrize("plural,version,path,rule,kind", LOCATIONS,
                         ids=[f"{p}-{v}{path}-{r['message'][:30]}" for p, v, path, r, _ in LOCATIONS])
def test_rule_passes_and_fails_with_its_message(gw, plural, version, path, rule, kind):
    case = CASES[rule["message"]]
    good, bad = _values(case, plural)
    code, answer = _write(gw, plural, version, path, good, case.get("old"))
    assert code in (200, 201), json.dumps(answer)[:2000]
    code, answer = _write(gw, plural, version, path, bad, case.get("old"))
    assert code == 422, json.dumps(answer)[:2000]
    assert answer["reason"] == "Invalid" and answer["details"]["group"] == GROUP
    field = path.replace("[*]", "[0]").lstrip(".")
    causes = [(c["field"], c["message"]) for c in answer["details"]["causes"]]
    if case.get("blocked"):
        assert any(m.startswith(case["blocked"]) for _, m in causes), causes
        assert ("<nil>", 'Invalid value: "null": some validation rules were not checked because the object was '
                         "invalid; correct the existing errors to complete validation") in causes
        return
    assert (field, f'Invalid value: "{kind}": {rule["message"]}') in causes, causes
    assert answer["message"].startswith(f'{KINDS[plural]}.{GROUP} "')


ROUTE = """apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: cel}}
spec:
  parentRefs: [{{name: gw}}]
  rules:
  - {rule}
"""


@pytest.mark.parametrize("rule,cause", [
    ("{matches: [{path: {type: PathPrefix, value: login}}], backendRefs: [{name: web, port: 80}]}",
     "spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' "
     "when type one of ['Exact', 'PathPrefix']"),
    ("{matches: [{path: {type: PathPrefix, value: /login//x}}], backendRefs: [{name: web, port: 80}]}",
     "spec.rules[0].matches[0].path: Invalid value: \"object\": must not contain '//' when type one of "
     "['Exact', 'PathPrefix']"),
    ("{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: [{name: web, port: 80}]}",
     'spec.rules[0]: Invalid value: "object": RequestRedirect filter must not be used together with backendRefs'),
    ("{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, "
     "{type: URLRewrite, urlRewrite: {hostname: a.example.com}}]}",
     'spec.rules[0].filters: Invalid value: "array": May specify either httpRouteFilterRequestRedirect or '
     "httpRouteFilterRequestRewrite, but not both"),
    ("{backendRefs: [{name: web}]}",
     'spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference'),
])
def test_kubectl_apply_shows_the_rule_message(gw, rule, cause):
    name = f"k{next(_names)}"
    proc = gw.kubectl("apply", "-f", "-", input=ROUTE.format(name=name, rule=rule), check=False)
    assert proc.returncode == 1
    assert f'The HTTPRoute "{name}" is invalid: {cause}' in proc.stderr
    assert gw.kubectl("get", "httproute", name, "-n", NS, check=False).returncode == 1  # nothing stored


def test_kubectl_transition_rule_refuses_a_changed_controller_name(gw):
    gc = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: immut}\n" \
         "spec: {controllerName: %s}\n"
    gw.kubectl("apply", "-f", "-", input=gc % "example.com/one")
    proc = gw.kubectl("apply", "-f", "-", input=gc % "example.com/two", check=False)
    assert 'The GatewayClass "immut" is invalid: spec.controllerName: Invalid value: "string": Value is immutable' \
        in proc.stderr
    assert gw.kubectl("apply", "-f", "-", input=gc % "example.com/one").returncode == 0


def test_kubectl_explain_shows_upstream_crd_descriptions(gw):
    out = gw.kubectl("explain", "httproute.spec.rules").stdout
    assert "Rules are a list of HTTP matchers, filters and actions." in out
    out = gw.kubectl("explain", "gateway.spec.listeners.protocol").stdout
    assert "Protocol specifies the network protocol this listener expects to receive." in out
    out = gw.kubectl("explain", "httproute.metadata.labels").stdout  # metadata is ObjectMeta, as upstream
    assert "Map of string keys and values that can be used to organize and categorize" in out


def test_kubectl_duplicate_listener_names_show_both_causes(gw):
    gtw = ("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: dup, namespace: cel}\n"
           "spec:\n  gatewayClassName: gc\n  listeners:\n  - {name: a, port: 80, protocol: HTTP}\n"
           "  - {name: a, port: 81, protocol: HTTP}\n")
    proc = gw.kubectl("apply", "-f", "-", input=gtw, check=False)
    assert 'The Gateway "dup" is invalid: \n' in proc.stderr
    assert '* spec.listeners[1]: Duplicate value: map[string]interface {}{"name":"a"}' in proc.stderr
    assert '* spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway' in proc.stderr
