"""Real kubectl 1.32 against the sandbox API server: the request itself refused as a real server does.

Body and object size limits (413), YAML alias bombs and deep nesting (400, never a 500 or a hang),
a body whose kind does not match the URL, names that break DNS rules, NotFound / AlreadyExists
with full details, unsupported field selectors (400), and a 404 that `kubectl debug` can read.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest


@pytest.fixture(scope="module")
def k(module_api):
    return module_api


def _raw(k, method: str, path: str, body: bytes | None, ctype: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(k.url + path, data=body, method=method,
                                     headers={"Content-Type": ctype, **k.auth_headers()})
    try:
        with urllib.request.urlopen(request, timeout=30, context=ssl.create_default_context(cadata=k.ca_pem)) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_service_name_must_be_a_dns_1035_label(k):
    proc = k.kubectl("create", "service", "clusterip", "1abc", "--tcp=80:80", check=False)
    assert proc.returncode == 1
    assert ('Service "1abc" is invalid: metadata.name: Invalid value: "1abc": a DNS-1035 label must consist of '
            "lower case alphanumeric characters or '-', start with an alphabetic character, and end with an "
            "alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
            "'[a-z]([-a-z0-9]*[a-z0-9])?')") in proc.stderr
    # a configmap may start with a digit (DNS-1123 subdomain), a namespace may not hold dots (label)
    k.kubectl("create", "configmap", "1abc")
    proc = k.kubectl("create", "namespace", "a.b", check=False)
    assert "a lowercase RFC 1123 label must consist of" in proc.stderr
    assert "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')" in proc.stderr


def test_already_exists_and_not_found_carry_full_details(k):
    k.kubectl("create", "deployment", "dup", "--image=nginx:1.27")
    proc = k.kubectl("create", "deployment", "dup", "--image=nginx:1.27", check=False)
    assert 'deployments.apps "dup" already exists' in proc.stderr
    code, status = _raw(k, "POST", "/apis/apps/v1/namespaces/default/deployments",
                        json.dumps(json.loads(k.kubectl("get", "deploy", "dup", "-o", "json").stdout)).encode())
    assert code == 409 and status["reason"] == "AlreadyExists"
    assert status["details"] == {"name": "dup", "group": "apps", "kind": "deployments"}
    code, status = _raw(k, "GET", "/apis/apps/v1/namespaces/default/deployments/nope", None)
    assert code == 404 and status["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    assert 'deployments.apps "nope" not found' in k.kubectl("get", "deploy", "nope", check=False).stderr


def test_unsupported_field_selector_is_a_bad_request(k):
    proc = k.kubectl("get", "pods", "--field-selector", "spec.imagePullPolice=Always", check=False)
    assert proc.returncode == 1
    assert ('Error from server (BadRequest): Unable to find "/v1, Resource=pods" that match label selector "", '
            'field selector "spec.imagePullPolice=Always": field label not supported: spec.imagePullPolice'
            in proc.stderr)
    assert k.kubectl("get", "pods", "--field-selector", "status.phase=Running,spec.nodeName=x").returncode == 0
    assert k.kubectl("get", "events", "--field-selector", "involvedObject.kind=Pod,reason=Failed").returncode == 0


def test_body_over_three_mebibytes_is_refused_with_413(k, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * (3 * 1024 * 1024 + 10))
    proc = k.kubectl("create", "configmap", "big", f"--from-file={big}", check=False)
    assert proc.returncode == 1
    assert "Request entity too large: limit is 3145728" in proc.stderr
    code, status = _raw(k, "POST", "/api/v1/namespaces/default/configmaps", b"{" + b" " * (50 << 20) + b"}")
    assert (code, status["reason"]) == (413, "RequestEntityTooLarge")
    assert k.kubectl("get", "configmap", "big", check=False).returncode == 1  # nothing stored


def test_yaml_alias_bomb_is_refused_not_expanded(k):
    levels = ["a: &a [x,x,x,x,x,x,x,x,x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nlol:\n" + "".join(f"  {line}\n" for line in levels)
    code, status = _raw(k, "POST", "/api/v1/namespaces/default/configmaps", body.encode(), "application/yaml")
    assert code == 400, status
    assert status["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): "
                                        "yaml: document contains excessive aliasing")
    # a few aliases (as Helm-rendered manifests use them) are fine
    ok = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: few, labels: &l {app: web}, annotations: *l}\n"
    code, status = _raw(k, "POST", "/api/v1/namespaces/default/configmaps", ok.encode(), "application/yaml")
    assert code == 201 and status["metadata"]["annotations"] == {"app": "web"}


def test_deep_nesting_is_a_bad_request_never_a_server_error(k):
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    code, status = _raw(k, "POST", "/api/v1/namespaces/default/configmaps", body)
    assert code == 400 and "exceeded max depth" in status["message"]
    deep_yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deepy}\nx: " + "[" * 300 + "]" * 300 + "\n"
    code, status = _raw(k, "POST", "/api/v1/namespaces/default/configmaps", deep_yaml.encode(), "application/yaml")
    assert code == 400 and "exceeded max depth" in status["message"]


def test_kind_or_version_not_matching_the_url_is_refused(k, tmp_path):
    svc = tmp_path / "svc.json"
    svc.write_text(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                               "spec": {"ports": [{"port": 80}]}}))
    proc = k.kubectl("create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", str(svc), check=False)
    assert proc.returncode == 1
    assert ('Service in version "v1" cannot be handled as a ConfigMap: converting (v1.Service) to '
            "(core.ConfigMap): unknown conversion") in proc.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "w"}}))
    proc = k.kubectl("create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", str(wrong), check=False)
    assert "the API version in the data (apps/v1) does not match the expected API version (v1)" in proc.stderr
    assert k.kubectl("get", "configmap", "s", check=False).returncode == 1


def test_missing_kind_is_defaulted_for_built_in_kinds_only(k, tmp_path):
    # the real decoder takes a built-in kind from the URL; kubectl itself refuses a manifest without kind
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"metadata": {"name": "bare"}, "data": {"a": "1"}}))
    k.kubectl("create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", str(bare))
    assert json.loads(k.kubectl("get", "cm", "bare", "-o", "json").stdout)["kind"] == "ConfigMap"
    proc = k.kubectl("apply", "-f", str(bare), check=False)
    assert proc.returncode == 1 and "kind not set" in proc.stderr


def test_kubectl_debug_gets_a_readable_not_simulated_answer(k):
    k.kubectl("run", "dbg", "--image=nginx:1.27")
    proc = k.kubectl("debug", "dbg", "--image=busybox:1.36", "--profile=general", check=False)
    assert proc.returncode == 1
    assert "panic" not in proc.stderr
    assert "pods/ephemeralcontainers is not simulated by the sandbox" in proc.stderr
