"""The sandbox reads request bodies with the bounded YAML loader (issue 19)."""

from __future__ import annotations

import http.client
import json
import urllib.parse


def laughs(levels: int = 6, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _post(api, body: bytes, ctype: str):
    conn = api.connection(60)
    conn.request("POST", "/api/v1/namespaces/default/configmaps", body=body,
                 headers={"Content-Type": ctype, "Authorization": f"Bearer {api.token}"})
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    conn.close()
    return resp.status, doc


def test_sandbox_refuses_a_yaml_body_with_laughs(api):
    body = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: default}\n"
            "binaryData: {}\nx:\n" + "".join("  " + l + "\n" for l in laughs().splitlines()))
    status, doc = _post(api, body.encode(), "application/yaml")
    # the bounded loader never expands it; the answer is the real API server's (go-yaml's) wording
    assert status == 400 and "yaml: document contains excessive aliasing" in doc["message"], doc


def test_sandbox_refuses_deeply_nested_json_with_400(api):
    body = b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "deep"}, "x": ' + \
        b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, doc = _post(api, body, "application/json")
    assert status == 400 and doc["reason"] == "BadRequest", doc
