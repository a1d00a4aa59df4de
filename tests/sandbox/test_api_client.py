"""The real kubernetes Python client against the sandbox: typed, dynamic and watch."""

from __future__ import annotations

import threading

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, dynamic, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


@pytest.fixture(scope="module")
def kc(module_api):
    cfg = client.Configuration()
    cfg.host = module_api.url
    cfg.api_key = {"authorization": f"Bearer {module_api.token}"}
    ca = module_api.kubeconfig.parent / "ca.crt"
    ca.write_text(module_api.server.ca_pem)
    cfg.ssl_ca_cert = str(ca)
    with client.ApiClient(cfg) as api_client:
        yield api_client


def _ns(kc, name):
    client.CoreV1Api(kc).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))


def test_typed_create_read_list_patch_delete(kc):
    core, apps = client.CoreV1Api(kc), client.AppsV1Api(kc)
    _ns(kc, "typed-client")
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=client.V1DeploymentSpec(
            replicas=1, selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]))))
    created = apps.create_namespaced_deployment("typed-client", body)
    assert created.metadata.uid and int(created.metadata.resource_version) > 0
    assert apps.read_namespaced_deployment("web", "typed-client").spec.replicas == 1
    listed = apps.list_namespaced_deployment("typed-client", label_selector="app=web")
    assert [d.metadata.name for d in listed.items] == ["web"] and listed.metadata.resource_version
    patched = apps.patch_namespaced_deployment("web", "typed-client", {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4 and patched.metadata.generation == 2
    scaled = apps.patch_namespaced_deployment_scale("web", "typed-client", {"spec": {"replicas": 2}})
    assert scaled.spec.replicas == 2
    apps.delete_namespaced_deployment("web", "typed-client")
    with pytest.raises(ApiException) as e:
        apps.read_namespaced_deployment("web", "typed-client")
    assert e.value.status == 404
    assert core.read_namespace("typed-client").metadata.labels["kubernetes.io/metadata.name"] == "typed-client"


def test_stale_resource_version_conflicts(kc):
    core = client.CoreV1Api(kc)
    _ns(kc, "conflict")
    cm = core.create_namespaced_config_map("conflict", {"metadata": {"name": "c"}, "data": {"a": "1"}})
    cm.data = {"a": "2"}
    core.replace_namespaced_config_map("c", "conflict", cm)
    cm.data = {"a": "3"}  # still the old resourceVersion
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("c", "conflict", cm)
    assert e.value.status == 409 and '"reason":"Conflict"' in e.value.body


def test_list_pagination_with_limit_and_continue(kc):
    core = client.CoreV1Api(kc)
    _ns(kc, "paging")
    for i in range(5):
        core.create_namespaced_config_map("paging", {"metadata": {"name": f"c{i}"}})
    names, token = [], None
    while True:
        page = core.list_namespaced_config_map("paging", limit=2, _continue=token)
        names += [c.metadata.name for c in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == ["c0", "c1", "c2", "c3", "c4"]


def test_dynamic_client_on_a_crd_kind(kc):
    dyn = dynamic.DynamicClient(kc)
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(body={
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.org"},
        "spec": {"group": "example.org", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]}})
    _ns(kc, "gadgets")
    dyn = dynamic.DynamicClient(kc)  # discovery is read once: a new client sees the new kind
    gadgets = dyn.resources.get(api_version="example.org/v1", kind="Gadget")
    gadgets.create(namespace="gadgets", body={"apiVersion": "example.org/v1", "kind": "Gadget",
                                              "metadata": {"name": "g1"}, "spec": {"n": 1}})
    got = gadgets.get(namespace="gadgets", name="g1")
    assert got.spec.n == 1 and got.kind == "Gadget"
    gadgets.patch(namespace="gadgets", name="g1", body={"spec": {"n": 2}},
                  content_type="application/merge-patch+json")
    assert [g.spec.n for g in gadgets.get(namespace="gadgets").items] == [2]
    gadgets.delete(namespace="gadgets", name="g1")
    assert gadgets.get(namespace="gadgets").items == []


def test_watch_streams_events_and_ends_at_timeout(kc, module_api):
    core = client.CoreV1Api(kc)
    _ns(kc, "watching")
    start_rv = core.list_namespaced_config_map("watching").metadata.resource_version
    seen: list[tuple[str, str]] = []
    finished = threading.Event()

    def consume():
        w = watch.Watch()
        for ev in w.stream(core.list_namespaced_config_map, "watching", resource_version=start_rv,
                           timeout_seconds=2, _request_timeout=30):
            seen.append((ev["type"], ev["object"].metadata.name))
        finished.set()

    t = threading.Thread(target=consume, daemon=True)
    t.start()
    # kubectl works while the watch is open
    module_api.kubectl("-n", "watching", "create", "configmap", "one")
    module_api.kubectl("-n", "watching", "delete", "configmap", "one")
    assert finished.wait(30), "the watch did not end after timeout_seconds"
    assert seen == [("ADDED", "one"), ("DELETED", "one")]


def test_watch_from_zero_lists_current_objects_first(kc):
    core = client.CoreV1Api(kc)
    _ns(kc, "initial")
    core.create_namespaced_config_map("initial", {"metadata": {"name": "present", "labels": {"k": "v"}}})
    core.create_namespaced_config_map("initial", {"metadata": {"name": "other"}})
    events = list(watch.Watch().stream(core.list_namespaced_config_map, "initial", label_selector="k=v",
                                       timeout_seconds=1, _request_timeout=30))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "present")]


def test_self_subject_access_review_is_allowed(kc):
    review = client.AuthorizationV1Api(kc).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "create", "resource": "pods"}}})
    assert review.status.allowed is True
