"""Field validation of built-in kinds against the Kubernetes 1.32 schemas, and `kubectl explain`.

Real kubectl 1.32 sends fieldValidation=Strict on create/apply/replace, Warn with --validate=warn,
Ignore with --validate=false; the server's default (no parameter) is Warn. Each answer is
checked against the real API server's wording.
"""

from __future__ import annotations

import json

import pytest
from test_api_http import request

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: fv}}
spec:
  {selector}: {{matchLabels: {{app: web}}}}
  selector: {{matchLabels: {{app: web}}}}
  replicas: {replicas}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx
        {pull}: IfNotPresent
"""
TYPO = DEPLOY.replace("{selector}", "selectr").replace("{replicas}", "1").replace("{pull}", "imagePullPolice") \
    .replace("{{", "{").replace("}}", "}").replace("{name}", "%s")
STRICT = ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
          'unknown field "spec.selectr", unknown field "spec.template.spec.containers[0].imagePullPolice"')


@pytest.fixture(scope="module")
def fv(module_api):
    module_api.kubectl("create", "ns", "fv")
    return module_api


@pytest.mark.parametrize("verb", [("create",), ("apply",)])
def test_strict_is_kubectls_default_and_refuses_typos(fv, verb):
    proc = fv.kubectl(*verb, "-f", "-", input=TYPO % f"typo-{verb[0]}", check=False)
    assert proc.returncode == 1
    assert f'Error from server (BadRequest): error when creating "STDIN": {STRICT}' in proc.stderr
    assert fv.kubectl("get", "deploy", f"typo-{verb[0]}", "-n", "fv", check=False).returncode == 1


def test_replace_is_strict_too(fv):
    good = DEPLOY.format(name="rep", selector="selector", replicas=1, pull="imagePullPolicy")
    fv.kubectl("create", "-f", "-", input=good)
    proc = fv.kubectl("replace", "-f", "-", input=TYPO % "rep", check=False)
    assert f'error when replacing "STDIN": {STRICT}' in proc.stderr


def test_warn_stores_without_the_unknown_fields(fv):
    proc = fv.kubectl("apply", "--validate=warn", "-f", "-", input=TYPO % "warned")
    assert 'Warning: unknown field "spec.selectr"' in proc.stderr
    assert 'Warning: unknown field "spec.template.spec.containers[0].imagePullPolice"' in proc.stderr
    stored = json.loads(fv.kubectl("get", "deploy", "warned", "-n", "fv", "-o", "json").stdout)
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert "imagePullPolice" not in container and "selectr" not in stored["spec"]


def test_ignore_says_nothing(fv):
    proc = fv.kubectl("apply", "--validate=false", "-f", "-", input=TYPO % "ignored")
    assert "Warning" not in proc.stderr and "created" in proc.stdout


def test_server_side_apply_names_fields_the_way_structured_merge_diff_does(fv):
    proc = fv.kubectl("apply", "--server-side", "-f", "-", input=TYPO % "ssa", check=False)
    assert proc.stderr.strip() == (
        "Error from server: failed to create typed patch object (fv/ssa; apps/v1, Kind=Deployment): errors:\n"
        "  .spec.selectr: field not declared in schema\n"
        '  .spec.template.spec.containers[name="web"].imagePullPolice: field not declared in schema')


def test_a_string_where_an_int_is_required(fv):
    bad = DEPLOY.format(name="typed", selector="selector", replicas='"3"', pull="imagePullPolicy")
    proc = fv.kubectl("apply", "-f", "-", input=bad, check=False)
    assert ('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into '
            "Go struct field DeploymentSpec.spec.replicas of type int32") in proc.stderr


def test_patch_with_an_unknown_field_warns_and_drops_it(fv):
    """kubectl patch sends fieldValidation=Warn (observed), so the server warns rather than refuses."""
    fv.kubectl("create", "configmap", "pc", "-n", "fv", "--from-literal=a=b")
    proc = fv.kubectl("patch", "configmap", "pc", "-n", "fv", "--type=merge", "-p", '{"dta": {"x": "y"}}')
    assert proc.stderr == 'Warning: unknown field "dta"\n'
    assert "dta" not in json.loads(fv.kubectl("get", "cm", "pc", "-n", "fv", "-o", "json").stdout)


def test_duplicates_and_unknowns_in_document_order_over_http(fv):
    body = (b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup","unknownMeta":1},'
            b'"dta":{"a":"b"},"data":{"a":"b"},"data":{"a":"c"}}')
    code, answer, _ = request(fv, "POST", "/api/v1/namespaces/fv/configmaps?fieldValidation=Strict", body)
    assert (code, answer["reason"]) == (400, "BadRequest")
    assert answer["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
                                 'duplicate field "metadata.name", unknown field "metadata.unknownMeta", '
                                 'unknown field "dta", duplicate field "data"')
    code, answer, resp = request(fv, "POST", "/api/v1/namespaces/fv/configmaps", body)  # default: Warn
    assert code == 201 and answer["data"] == {"a": "c"} and "dta" not in answer
    assert resp.headers.get_all("Warning") == [
        '299 - "duplicate field \\"metadata.name\\""', '299 - "unknown field \\"metadata.unknownMeta\\""',
        '299 - "unknown field \\"dta\\""', '299 - "duplicate field \\"data\\""']


def test_custom_resources_warn_too(fv):
    from tutorial.sandbox.bundles import gateway_api_bundle

    fv.kubectl("apply", "-f", str(gateway_api_bundle()))
    gc = "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: fvgc}\n" \
         "spec: {controllerName: example.com/x, contrllerName: typo}\n"
    proc = fv.kubectl("apply", "-f", "-", input=gc, check=False)
    assert ('GatewayClass in version "v1" cannot be handled as a GatewayClass: strict decoding error: '
            'unknown field "spec.contrllerName"') in proc.stderr
    proc = fv.kubectl("apply", "--validate=warn", "-f", "-", input=gc)
    assert 'Warning: unknown field "spec.contrllerName"' in proc.stderr


@pytest.mark.parametrize("args,expected", [
    (("pods",), "Pod is a collection of containers that can run on a host."),
    (("deployment.spec.template",), "Template describes the pods that will be created."),
    (("pod.spec.containers.imagePullPolicy",), "Image pull policy. One of Always, Never, IfNotPresent."),
    (("svc.spec.type",), "type determines how the Service is exposed."),
])
def test_kubectl_explain_builtin_kinds(fv, args, expected):
    assert expected in fv.kubectl("explain", *args).stdout


def test_custom_resource_wrong_type_blocks_cel_as_the_api_server(fv):
    from tutorial.sandbox.bundles import gateway_api_bundle

    fv.kubectl("apply", "-f", str(gateway_api_bundle()))
    route = ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: typed, namespace: fv}\n"
             "spec:\n  rules:\n  - backendRefs: [{name: web, port: '80'}]\n")
    proc = fv.kubectl("apply", "-f", "-", input=route, check=False)
    assert 'The HTTPRoute "typed" is invalid: \n' in proc.stderr
    assert ('* spec.rules[0].backendRefs[0].port: Invalid value: "string": spec.rules[0].backendRefs[0].port in body '
            'must be of type integer: "string"') in proc.stderr
    assert ('* <nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; '
            "correct the existing errors to complete validation") in proc.stderr


@pytest.mark.parametrize("ctype,body,expected", [
    ("application/merge-patch+json", b'{"data": {"a": "1", "a": "2"}, "zzz": 1, "dta": {}}',
     'duplicate field "data.a", unknown field "dta", unknown field "zzz"'),
    ("application/strategic-merge-patch+json", b'{"metadata": {"labels": {"x": "1"}, "labels": {"y": "2"}}}',
     'duplicate field "metadata.labels"'),
    ("application/json-patch+json", b'[{"op": "add", "path": "/dta", "value": {}, "foo": 1},'
                                    b' {"op": "add", "path": "/data/b", "path": "/data/c", "value": "v"}]',
     'json patch unknown field "[0].foo", json patch duplicate field "[1].path", unknown field "dta"'),
])
def test_patch_bodies_under_strict(fv, ctype, body, expected):
    fv.kubectl("create", "configmap", "strictpatch", "-n", "fv", "--from-literal=a=b", check=False)
    code, answer, _ = request(fv, "PATCH", "/api/v1/namespaces/fv/configmaps/strictpatch?fieldValidation=Strict",
                              body, ctype)
    assert (code, answer["message"]) == (400, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
                                              f"strict decoding error: {expected}")
