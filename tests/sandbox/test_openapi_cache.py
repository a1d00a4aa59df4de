"""OpenAPI v3 documents are cacheable as the real API server makes them (kube-openapi's handler3):
asked for by their current hash, public and immutable for a year; by a stale hash, redirected."""

from __future__ import annotations

import email.utils
import json
import logging
import time

from crdyaml import crd_yaml

def _get(api, path: str):
    conn = api.connection()
    try:
        conn.request("GET", path, headers=api.auth_headers())
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _index(api) -> dict:
    status, _, body = _get(api, "/openapi/v3")
    assert status == 200
    return json.loads(body)["paths"]


def test_a_document_asked_for_by_its_hash_is_immutable(api):
    url = _index(api)["api/v1"]["serverRelativeURL"]
    digest = url.split("hash=", 1)[1]
    status, headers, body = _get(api, url)
    assert status == 200 and "ConfigMap" in json.loads(body)["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"][
        "x-kubernetes-group-version-kind"][0]["kind"]
    assert headers["Cache-Control"] == "public, immutable"
    assert headers["Etag"] == f'"{digest}"' and headers["Vary"] == "Accept"
    expires = email.utils.parsedate_to_datetime(headers["Expires"]).timestamp()
    assert expires > time.time() + 300 * 86400  # a year ahead: "never expires"


def test_without_a_hash_the_document_is_not_cached(api):
    status, headers, _ = _get(api, "/openapi/v3/apis/apps/v1")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache, private" and "Expires" not in headers
    assert headers["Etag"].strip('"') in _index(api)["apis/apps/v1"]["serverRelativeURL"]


def test_a_stale_hash_is_redirected_to_the_current_document(api):
    current = _index(api)["apis/apps/v1"]["serverRelativeURL"]
    status, headers, body = _get(api, "/openapi/v3/apis/apps/v1?hash=0123456789ABCDEF")
    assert status == 301 and headers["Location"] == current and body == b""
    assert "Expires" not in headers


def test_an_unserved_group_version_is_not_found(api):
    status, _, body = _get(api, "/openapi/v3/apis/nothing.example.com/v1")
    assert status == 404 and json.loads(body)["reason"] == "NotFound"


def test_kubectl_fetches_a_document_once_then_reads_its_cache(api, caplog):
    """Every later kubectl (each a new process) reads the document from its HTTP cache on disk."""
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\ndata: {k: %s}\n"
    with caplog.at_level(logging.DEBUG, logger="tutorial.sandbox.api.handler"):
        for value in ("a", "b", "c"):
            api.kubectl("apply", "-f", "-", input=manifest % value)
    fetched = [r for r in caplog.records if "/openapi/v3/api/v1?hash=" in r.getMessage()]
    assert len(fetched) == 1, [r.getMessage() for r in fetched]
    assert api.kubectl("get", "configmap", "c", "-o", "jsonpath={.data.k}").stdout == "c"


CRD = crd_yaml("cache.example.com", "Widget", "widgets", """            type: object
            properties: {%s: {type: string}}
""")


def test_a_changed_crd_schema_changes_its_document_hash(api):
    """The index's digests are remembered between requests; a CRD changed since is hashed anew."""
    api.kubectl("apply", "-f", "-", input=CRD % "size")
    api.kubectl("wait", "--for=condition=Established", "crd/widgets.cache.example.com", "--timeout=30s")
    first = _index(api)["apis/cache.example.com/v1"]["serverRelativeURL"]
    assert _index(api)["apis/cache.example.com/v1"]["serverRelativeURL"] == first  # unchanged: same digest
    api.kubectl("apply", "-f", "-", input=CRD % "colour")
    second = _index(api)["apis/cache.example.com/v1"]["serverRelativeURL"]
    assert second != first
    status, _, body = _get(api, second)
    spec = json.loads(body)["components"]["schemas"]["com.example.cache.v1.Widget"]["properties"]["spec"]
    assert status == 200 and "colour" in spec["properties"] and "size" not in spec["properties"]
    status, headers, _ = _get(api, first)
    assert status == 301 and headers["Location"] == second
    api.kubectl("delete", "crd", "widgets.cache.example.com")
