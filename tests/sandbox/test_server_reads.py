"""The API server's cheaper reads give the same answers: stored objects read without copies, a large
object's JSON kept per stored version, /status updates that copy only the status, CEL work done once.

No timing here: each test pins an answer (or that nothing stored changes), not how fast it came.
"""

from __future__ import annotations

import http.client
import json
import socket

from tlsfix import https_connection
from tutorial.sandbox.api.validation import celparse, crdcompile
from tutorial.sandbox.controllers import util
from tutorial.sandbox.storage.objects import copy_json
from tutorial.sandbox.storage.store import Store

PODS = ("", "pods")
CMS = ("", "configmaps")


def _pod(name, labels=None):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                             "labels": labels or {}}, "spec": {"containers": []}}


def _get(api, path, accept="application/json") -> tuple[int, bytes]:
    conn: http.client.HTTPSConnection = https_connection(api.server)
    conn.request("GET", path, headers={"Authorization": f"Bearer {api.token}", "Accept": accept})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def test_view_and_stored_list_are_the_stored_objects_and_list_still_copies():
    s = Store()
    s.create(PODS, _pod("b", {"app": "x"}))
    s.create(PODS, _pod("a", {"app": "y"}))
    viewed = s.view(PODS, "default")
    assert [o["metadata"]["name"] for o in viewed] == ["a", "b"]
    assert viewed[0] is s.peek(PODS, "default", "a")
    assert s.view(PODS, label_selector="app=x") == [s.peek(PODS, "default", "b")]
    stored, rv = s.list(PODS, stored=True)
    assert stored[1] is s.peek(PODS, "default", "b") and rv == s.resource_version
    copies, _ = s.list(PODS)
    assert copies == stored and copies[1] is not stored[1]


def test_watch_events_are_new_dicts_over_unchanged_stored_versions():
    s = Store()
    w = s.watch(PODS)
    s.create(PODS, _pod("a"))
    _, obj = w.next(1)
    assert obj is not s.peek(PODS, "default", "a") and obj == s.peek(PODS, "default", "a")
    obj["kind"] = "Changed"  # what the watch stream does (apiVersion, kind)
    assert s.peek(PODS, "default", "a")["kind"] == "Pod"


def test_a_status_update_takes_only_the_status_and_leaves_the_callers_object_alone():
    s = Store()
    s.create(PODS, _pod("a", {"v": "1"}))
    before = s.get(PODS, "default", "a")
    mine = copy_json(before)
    mine["metadata"]["labels"]["v"] = "ignored"  # a /status update keeps the stored metadata
    mine["spec"]["nodeName"] = "ignored"
    mine["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    after = s.update(PODS, mine, subresource="status")
    assert after["metadata"]["labels"] == {"v": "1"} and "nodeName" not in after["spec"]
    assert after["status"] == mine["status"]
    mine["status"]["conditions"][0]["status"] = "False"  # the caller's object is not the stored one
    assert s.peek(PODS, "default", "a")["status"]["conditions"][0]["status"] == "True"
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])


def test_write_status_leaves_the_object_it_was_given_unchanged():
    s = Store()
    s.create(PODS, _pod("a"))
    stored = s.peek(PODS, "default", "a")
    rv = stored["metadata"]["resourceVersion"]
    written = util.write_status(s, PODS, stored, {"phase": "Pending"})
    assert written["status"] == {"phase": "Pending"}
    assert stored["metadata"]["resourceVersion"] == rv and "status" not in stored


def test_a_large_objects_encoding_is_kept_only_while_it_is_stored():
    s = Store()
    s.create(CMS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "default"},
                   "data": {"k": "x" * 40000}})
    first = s.peek(CMS, "default", "big")
    calls = []

    def encode(obj):
        calls.append(obj)
        return json.dumps(obj).encode()

    data = s.encoded(first, encode)
    assert s.encoded(first, encode) is data and len(calls) == 1
    new = s.get(CMS, "default", "big")
    new["data"]["k"] = "y" * 40000
    s.update(CMS, new)
    second = s.peek(CMS, "default", "big")
    assert json.loads(s.encoded(second, encode))["data"]["k"].startswith("y") and len(calls) == 2
    assert s.encoded(first, encode) == data and len(calls) == 3  # an old version: encoded again, not kept


def test_list_and_get_answers_are_what_send_json_writes(api):
    store = api.store
    store.create(("", "namespaces"), {"metadata": {"name": "ns1"}})
    big = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "ns1"},
           "data": {"k": "é" * 20000}}
    store.create(CMS, big)
    store.create(CMS, {"metadata": {"name": "bare", "namespace": "ns1"}, "data": {"a": "b"}})  # no kind stored
    for _ in range(2):  # the second answer comes from the kept encoding
        code, body = _get(api, "/api/v1/namespaces/ns1/configmaps")
        items, rv = store.list(CMS, "ns1")
        for item in items:
            item.update(apiVersion="v1", kind="ConfigMap")
        want = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": str(rv)}, "items": items}
        assert code == 200 and body == json.dumps(want, separators=(",", ":")).encode()
        code, body = _get(api, "/api/v1/namespaces/ns1/configmaps/big")
        assert code == 200 and body == json.dumps(store.get(CMS, "ns1", "big"), separators=(",", ":")).encode()
    code, body = _get(api, "/api/v1/namespaces/ns1/configmaps?limit=1")
    page = json.loads(body)
    assert [i["metadata"]["name"] for i in page["items"]] == ["bare"] and page["metadata"]["continue"]
    assert page["items"][0]["kind"] == "ConfigMap" and "kind" not in store.peek(CMS, "ns1", "bare")


def test_crd_causes_are_kept_per_content_and_handed_out_as_new_lists():
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"n": {"type": "integer"}},
                                                        "x-kubernetes-validations": [{"rule": "self.m > 0"}]}}}
    crd = {"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": schema}}]}}
    first = crdcompile.crd_causes(crd, None)
    assert first and "undefined field 'm'" in first[0][1]
    first.clear()
    again = crdcompile.crd_causes(copy_json(crd), None)
    assert again and again == crdcompile._crd_causes([schema], set())
    assert crdcompile.crd_causes(crd, copy_json(crd)) == []  # rules the stored CRD had are not re-checked


def test_a_cel_text_is_parsed_once_and_bad_text_still_raises():
    tree = celparse.parse("self.a.all(x, x > 1)")
    assert celparse.parse("self.a.all(x, x > 1)") is tree
    for _ in range(2):
        try:
            celparse.parse("self.a +")
        except (SyntaxError, IndexError):
            pass
        else:
            raise AssertionError("a broken expression parsed")


def test_a_wakeable_server_serves_then_stops_when_told():
    import socketserver
    import threading

    from tutorial.sandbox.wakeloop import WakeableServer

    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(self.rfile.readline().upper())

    class Server(WakeableServer, socketserver.ThreadingTCPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Echo)
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    for word in (b"one\n", b"two\n"):
        with socket.create_connection(server.server_address, timeout=10) as conn:
            conn.sendall(word)
            assert conn.makefile("rb").readline() == word.upper()
    server.shutdown()  # returns once the loop has ended, without waiting for a poll interval
    loop.join(10)
    assert not loop.is_alive()
    server.server_close()
    again = Server(("127.0.0.1", 0), Echo)  # shut down before its loop starts: the loop ends at once
    threading.Thread(target=again.shutdown, daemon=True).start()
    again.serve_forever()
    again.server_close()


def test_a_crd_status_update_keeps_its_openapi_digest_without_hashing_again(api, monkeypatch):
    from tutorial.sandbox.api import openapi
    from tutorial.sandbox.api.resources import CRDS

    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gizmos.reads.example.com"},
           "spec": {"group": "reads.example.com", "scope": "Namespaced",
                    "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object"}}}}}]}}
    api.store.create(CRDS, crd)
    digest = openapi._hash(api.server.registry, "reads.example.com", "v1", api.store)
    built = []
    real = openapi.group_version_doc
    monkeypatch.setattr(openapi, "group_version_doc", lambda *a, **k: built.append(a) or real(*a, **k))
    stored = api.store.get(CRDS, None, "gizmos.reads.example.com")
    stored["status"] = {**stored.get("status", {}), "acceptedNames": {"plural": "gizmos", "kind": "Gizmo"}}
    api.store.update(CRDS, stored, subresource="status")
    assert openapi._hash(api.server.registry, "reads.example.com", "v1", api.store) == digest and built == []
    changed = api.store.get(CRDS, None, "gizmos.reads.example.com")
    changed["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["description"] = "new"
    api.store.update(CRDS, changed)
    assert openapi._hash(api.server.registry, "reads.example.com", "v1", api.store) != digest and built
