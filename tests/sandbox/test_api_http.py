"""Raw HTTP against the sandbox API server: malformed requests get Status answers, never a crash;
admission validators give 422 with causes; faults are honoured; watch streams are well-formed."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse

import pytest

from tlsfix import https_connection
from tutorial.sandbox.api import admission
from tutorial.sandbox.api.resources import Registry
from tutorial.sandbox.api.server import ApiServer
from tutorial.sandbox.storage.store import Store


def request(api, method, path, body=None, ctype="application/json", headers=None):
    conn = https_connection(api)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": ctype, "Authorization": f"Bearer {api.token}",
                                                    **(headers or {})})
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(payload), resp
    except json.JSONDecodeError:
        return resp.status, payload.decode(), resp


@pytest.mark.parametrize("method,path,body,ctype,code,reason", [
    ("POST", "/api/v1/namespaces", b"{not json", "application/json", 400, "BadRequest"),
    ("POST", "/api/v1/namespaces", b"- a\n- b\n", "application/yaml", 400, "BadRequest"),
    ("POST", "/api/v1/namespaces", b"name: x", "text/html", 415, "UnsupportedMediaType"),
    ("POST", "/api/v1/namespaces", b"k8s\x00garbage", "application/vnd.kubernetes.protobuf", 415,
     "UnsupportedMediaType"),
    ("GET", "/api/v1/nothings", None, "application/json", 404, "NotFound"),
    ("GET", "/apis/nope.example.com/v1/things", None, "application/json", 404, "NotFound"),
    ("GET", "/totally/unknown", None, "application/json", 404, "NotFound"),
    ("GET", "/api/v1/namespaces/default/pods/missing", None, "application/json", 404, "NotFound"),
    ("PATCH", "/api/v1/namespaces/default", b"{}", "application/weird", 415, "UnsupportedMediaType"),
    ("PATCH", "/api/v1/namespaces/default", b'[{"op": "jump", "path": "/x"}]', "application/json-patch+json",
     400, "BadRequest"),
    ("PATCH", "/api/v1/namespaces/default", b'[{"op": "test", "path": "/metadata/name", "value": "x"}]',
     "application/json-patch+json", 422, "Invalid"),
    ("GET", "/api/v1/pods?labelSelector=a%20b%20c", None, "application/json", 400, "BadRequest"),
    ("GET", "/api/v1/pods?limit=abc", None, "application/json", 400, "BadRequest"),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x", b"{}", "application/json", 405,
     "MethodNotAllowed"),
    ("DELETE", "/api/v1/namespaces/default", None, "application/json", 403, "Forbidden"),
    ("OPTIONS", "/api/v1/namespaces/default", None, "application/json", 405, "MethodNotAllowed"),
    ("GET", "/api/v1/namespaces/default/pods/p/exec", None, "application/json", 400, "BadRequest"),
    ("POST", "/api/v1/namespaces", {"metadata": {"name": "Bad_Name"}}, "application/json", 422, "Invalid"),
])
def test_bad_requests_get_status_and_server_keeps_serving(module_api, method, path, body, ctype, code, reason):
    status, answer, _ = request(module_api, method, path, body, ctype)
    assert status == code, answer
    assert answer["kind"] == "Status" and answer["reason"] == reason and answer["code"] == code
    assert request(module_api, "GET", "/healthz")[0] == 200


def test_registered_validator_gives_422_with_causes(module_api):
    def no_blue(obj, old):
        return [("data.color", 'Forbidden: "blue" is not allowed here')] if (obj.get("data") or {}).get(
            "color") == "blue" else []
    adm = admission.Admission()
    adm.register_validator(("", "configmaps"), no_blue)
    server = ApiServer(module_api.store, Registry.builtin(), admission=adm).start()
    try:
        status, answer, _ = request(server, "POST", "/api/v1/namespaces/default/configmaps",
                                    {"metadata": {"name": "c"}, "data": {"color": "blue"}})
        assert status == 422 and answer["reason"] == "Invalid"
        assert answer["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "data.color",
                                                "message": 'Forbidden: "blue" is not allowed here'}]
        assert request(server, "POST", "/api/v1/namespaces/default/configmaps",
                       {"metadata": {"name": "c"}, "data": {"color": "red"}})[0] == 201
    finally:
        server.stop()


def test_crd_schema_validation_rejects_bad_enum(module_api):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "knobs.example.net"},
           "spec": {"group": "example.net", "scope": "Cluster",
                    "names": {"plural": "knobs", "singular": "knob", "kind": "Knob"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "required": ["mode"],
                                                                  "properties": {"mode": {"enum": ["on", "off"]}}}}}}}]}}
    assert request(module_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    status, answer, _ = request(module_api, "POST", "/apis/example.net/v1/knobs",
                                {"apiVersion": "example.net/v1", "kind": "Knob", "metadata": {"name": "k"},
                                 "spec": {"mode": "maybe"}})
    assert status == 422 and answer["details"]["causes"][0]["field"] == "spec.mode"
    status, answer, _ = request(module_api, "POST", "/apis/example.net/v1/knobs",
                                {"apiVersion": "example.net/v1", "kind": "Knob", "metadata": {"name": "k"}, "spec": {}})
    assert status == 422 and answer["details"]["causes"][0]["field"] == "spec.mode"


def test_watch_stream_is_chunked_ndjson_and_stops_at_timeout(module_api):
    conn = https_connection(module_api)
    conn.request("GET", "/api/v1/namespaces?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Ddefault",
                 headers={"Authorization": f"Bearer {module_api.token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type") == "application/json"
    assert resp.getheader("Transfer-Encoding") == "chunked"
    lines = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "default")]


def test_watch_too_old_resource_version_sends_410_event(tmp_path):
    store = Store()
    store._history = type(store._history)(maxlen=2)
    server = ApiServer(store, Registry.builtin()).start()  # creates 4 namespaces: history overflows
    try:
        status, answer, _ = request(server, "GET", "/api/v1/namespaces?watch=1&resourceVersion=1")
        event = json.loads(answer) if isinstance(answer, str) else answer
        assert status == 200 and event["type"] == "ERROR" and event["object"]["code"] == 410
    finally:
        server.stop()


class Faults:
    """Duck-typed faults object: each switch answers True once."""

    def __init__(self):
        self.unreachable_next = self.error_next = self.drop_next = False

    def unreachable(self):
        hit, self.unreachable_next = self.unreachable_next, False
        return hit

    def api_error_now(self):
        hit, self.error_next = self.error_next, False
        return hit

    def drop_watch_now(self):
        return self.drop_next


def test_faults_are_honoured(tmp_path):
    faults = Faults()
    server = ApiServer(Store(), Registry.builtin(), faults=faults).start()
    try:
        faults.error_next = True
        status, answer, _ = request(server, "GET", "/api/v1/namespaces")
        assert status == 500 and answer["reason"] == "InternalError"
        faults.unreachable_next = True
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            request(server, "GET", "/api/v1/namespaces")
        faults.drop_next = True
        status, body, _ = request(server, "GET", "/api/v1/namespaces?watch=1&timeoutSeconds=600&resourceVersion="
                                  + str(server.store.resource_version))
        assert status == 200  # the stream ended early instead of lasting 600 s
        assert request(server, "GET", "/version")[0] == 200
    finally:
        server.stop()


def test_concurrent_clients_with_open_watch(module_api):
    conn = https_connection(module_api)
    conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=20",
                 headers={"Authorization": f"Bearer {module_api.token}"})
    resp = conn.getresponse()
    errors = []

    def writer(n):
        for i in range(10):
            status, answer, _ = request(module_api, "POST", "/api/v1/namespaces/default/configmaps",
                                        {"metadata": {"name": f"w{n}-{i}"}})
            if status != 201:
                errors.append(answer)
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    seen = set()
    while len(seen) < 40:
        event = json.loads(_next_event(resp))
        seen.add(event["object"]["metadata"]["name"])
    conn.close()
    assert errors == [] and len(seen) == 40


def _next_event(resp) -> bytes:
    line = b""
    while not line.strip():
        line = resp.readline()
    return line


def test_randomly_malformed_objects_never_cause_server_errors(module_api):
    import random
    rng = random.Random(7)
    values = [None, 1, "x", [], {}, [1], {"a": 1}, {"a": [1]}, True, "A B", {"name": 5}]
    paths = ["/api/v1/namespaces", "/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/pods",
             "/apis/apps/v1/namespaces/default/deployments", "/api/v1/namespaces/default/services",
             "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]
    ctypes = ["application/json", "application/merge-patch+json", "application/strategic-merge-patch+json",
              "application/json-patch+json", "application/apply-patch+yaml"]
    failures = []
    for _ in range(400):
        body = {"metadata": {"name": rng.choice(["ok", 5, None, "a" * 300]),
                             rng.choice(["labels", "annotations", "finalizers", "ownerReferences"]): rng.choice(values)},
                rng.choice(["spec", "data", "status"]): rng.choice(values)}
        if rng.random() < 0.4:
            body["spec"] = {rng.choice(["ports", "containers", "selector", "template", "versions", "names",
                                        "replicas"]): rng.choice(values)}
        method = rng.choice(["POST", "PUT", "PATCH"])
        path = rng.choice(paths) + ("" if method == "POST" else "/ok")
        status, answer, _ = request(module_api, method, path, body, rng.choice(ctypes))
        # the one 500 a real server gives here: server-side apply of fields the schema lacks
        typed_patch = str(answer.get("message") if isinstance(answer, dict) else "").startswith(
            "failed to create typed patch object")
        if status >= 500 and not typed_patch:
            failures.append((method, path, body, answer))
    assert failures == []
    assert request(module_api, "GET", "/api/v1/namespaces/default/configmaps",
                   headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})[0] == 200


def _open_watch(server, query):
    conn = https_connection(server)
    conn.request("GET", "/api/v1/namespaces/default/configmaps?watch=true&" + query,
                 headers={"Authorization": f"Bearer {server.token}"})
    return conn, conn.getresponse()


def test_watch_sends_bookmarks_when_asked():
    server = ApiServer(Store(), Registry.builtin()).start()
    server.bookmark_interval = 0.1
    try:
        rv = server.store.resource_version
        conn, resp = _open_watch(server, f"allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion={rv}")
        event = json.loads(_next_event(resp))
        assert event["type"] == "BOOKMARK" and event["object"]["kind"] == "ConfigMap"
        assert int(event["object"]["metadata"]["resourceVersion"]) >= rv
        conn.close()
    finally:
        server.stop()


def test_stop_ends_open_watches_and_connections():
    server = ApiServer(Store(), Registry.builtin()).start()
    conn, resp = _open_watch(server, "timeoutSeconds=600")
    server.stop()
    try:
        resp.read()  # returns (stream ended or cut) instead of waiting 600 s
        ended = "cleanly"
    except http.client.HTTPException:
        ended = "cut"
    conn.close()
    assert ended in ("cleanly", "cut")
    with pytest.raises(OSError):
        request(server, "GET", "/healthz")


def test_events_api_group_shares_core_events(module_api):
    event = {"metadata": {"name": "shared.1"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
             "reason": "Started", "message": "Started container", "type": "Normal"}
    assert request(module_api, "POST", "/api/v1/namespaces/default/events", event)[0] == 201
    status, listed, _ = request(module_api, "GET", "/apis/events.k8s.io/v1/namespaces/default/events")
    item = next(i for i in listed["items"] if i["metadata"]["name"] == "shared.1")
    assert listed["kind"] == "EventList" and item["apiVersion"] == "events.k8s.io/v1"
    assert item["note"] == "Started container" and item["regarding"]["name"] == "p"


def test_multi_version_crd_served_at_every_version_and_deletecollection(module_api):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "dials.example.io"},
           "spec": {"group": "example.io", "scope": "Namespaced",
                    "names": {"plural": "dials", "singular": "dial", "kind": "Dial"},
                    "versions": [{"name": "v1beta1", "served": True, "storage": False},
                                 {"name": "v1", "served": True, "storage": True}]}}
    assert request(module_api, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)[0] == 201
    status, group, _ = request(module_api, "GET", "/apis/example.io")
    assert group["preferredVersion"]["version"] == "v1"
    for n in range(3):
        body = {"apiVersion": "example.io/v1beta1", "kind": "Dial",
                "metadata": {"name": f"d{n}", "labels": {"odd": str(n % 2 == 1).lower()}}}
        assert request(module_api, "POST", "/apis/example.io/v1beta1/namespaces/default/dials", body)[0] == 201
    status, got, _ = request(module_api, "GET", "/apis/example.io/v1/namespaces/default/dials/d0")
    assert got["apiVersion"] == "example.io/v1"
    status, gone, _ = request(module_api, "DELETE", "/apis/example.io/v1/namespaces/default/dials?labelSelector=odd%3Dfalse")
    assert status == 200 and sorted(i["metadata"]["name"] for i in gone["items"]) == ["d0", "d2"]
    status, left, _ = request(module_api, "GET", "/apis/example.io/v1/namespaces/default/dials")
    assert [i["metadata"]["name"] for i in left["items"]] == ["d1"]
    assert request(module_api, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/dials.example.io")[0] == 200
    assert request(module_api, "GET", "/apis/example.io/v1/namespaces/default/dials")[0] == 404
    assert module_api.store.list(("example.io", "dials"))[0] == []  # custom objects went with their CRD


def test_put_without_cluster_ip_keeps_the_allocated_one(module_api):
    svc = {"metadata": {"name": "keep"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    status, created, _ = request(module_api, "POST", "/api/v1/namespaces/default/services", svc)
    created["spec"].update(clusterIP="10.96.0.99", clusterIPs=["10.96.0.99"])
    created["spec"]["ports"][0]["nodePort"] = 30080
    module_api.store.update(("", "services"), created)  # what the network controller does
    status, replaced, _ = request(module_api, "PUT", "/api/v1/namespaces/default/services/keep", svc)
    assert status == 200 and replaced["spec"]["clusterIP"] == "10.96.0.99"
    assert replaced["spec"]["ports"][0]["nodePort"] == 30080


def test_crd_update_must_keep_stored_versions(module_api):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "olds.example.dev"},
           "spec": {"group": "example.dev", "scope": "Namespaced", "names": {"plural": "olds", "kind": "Old"},
                    "versions": [{"name": "v1alpha2", "served": True, "storage": True}]}}
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert request(module_api, "POST", path, crd)[0] == 201
    crd["spec"]["versions"] = [{"name": "v1alpha2", "served": True, "storage": False},
                               {"name": "v1", "served": True, "storage": True}]
    status, updated, _ = request(module_api, "PUT", f"{path}/olds.example.dev", crd)
    assert status == 200
    assert module_api.store.get(("apiextensions.k8s.io", "customresourcedefinitions"), None,
                                "olds.example.dev")["status"]["storedVersions"] == ["v1alpha2", "v1"]
    crd["spec"]["versions"] = [{"name": "v1", "served": True, "storage": True}]
    status, answer, _ = request(module_api, "PUT", f"{path}/olds.example.dev", crd)
    assert status == 422 and answer["details"]["kind"] == "CustomResourceDefinition"
    assert answer["details"]["causes"][0] == {"reason": "FieldValueInvalid", "field": "status.storedVersions[0]",
                                              "message": 'Invalid value: "v1alpha2": must appear in spec.versions'}


def test_apply_patch_yaml_body_keeps_timestamps_as_strings(module_api):
    body = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stamped\ndata:\n  when: 2024-01-01T00:00:00Z\n"
    status, created, _ = request(module_api, "PATCH", "/api/v1/namespaces/default/configmaps/stamped?fieldManager=t",
                                 body, "application/apply-patch+yaml")
    assert status == 201 and created["data"] == {"when": "2024-01-01T00:00:00Z"}


def test_abandoned_watch_frees_its_thread():
    server = ApiServer(Store(), Registry.builtin()).start()
    try:
        host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
        conns = []
        for _ in range(3):
            conn = https_connection(server)
            conn.request("GET", "/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=600",
                         headers={"Authorization": f"Bearer {server.token}"})
            conn.getresponse()
            conns.append(conn)
        with server.watch_changed:
            assert server.watch_changed.wait_for(lambda: server.open_watches == 3, timeout=10)
        for conn in conns:
            conn.close()
        with server.watch_changed:  # each stream notices within about a second, not after 600 s
            assert server.watch_changed.wait_for(lambda: server.open_watches == 0, timeout=10)
    finally:
        server.stop()
