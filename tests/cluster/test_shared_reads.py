"""ClusterClient.shared_reads(): inside it, every read of a kind in a namespace is answered from one
list, with exactly what the API server answers to each read on its own; a group the cluster does not
serve is asked about once. Against a real sandbox over HTTPS; requests are counted through the
api-latency fault's sleep (every request waits once), as in test_discovery_sharing.
"""

from __future__ import annotations

import random
import time

import pytest

from tutorial.cluster.client import ClusterClient, ClusterError
from tutorial.cluster.shared import label_matcher
from tutorial.instructor.kubeapi import Kube
from tutorial.sandbox.cluster import SandboxCluster
from tutorial.sandbox.faults import FaultSet

SERVICES = {"svc-a": {"app": "a", "tier": "web"}, "svc-b": {"app": "b"}, "svc-c": {}}
LABEL_SELECTORS = [None, "app=a", "app==b", "app!=a", "app", "!app", "app=a,tier=web", "app=a,tier!=web",
                   "tier=", "example.com/owner=x"]


class Counter(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    counted = Counter()
    faults = FaultSet(rng=random.Random(1), sleep=counted)
    cluster = SandboxCluster("shared", faults=faults).start()
    kubeconfig = cluster.write_kubeconfig(tmp_path_factory.mktemp("kc") / "kubeconfig", context="shared")
    client = ClusterClient(str(kubeconfig), "shared")
    kube = Kube(client)
    status, doc = kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                             "metadata": {"name": "shop"}})
    assert status == 201, doc
    for name, labels in SERVICES.items():
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels},
                "spec": {"ports": [{"port": 80, "targetPort": 8080}], "selector": {"app": name}}}
        status, doc = kube.request("POST", "/api/v1/namespaces/shop/services", body)
        assert status == 201, doc
    faults.enable("api-latency", delay="1ms", jitter="0")
    yield client, counted
    client.close()
    cluster.stop()


def _reads(client: ClusterClient) -> dict:
    svc, ns = client.resource("v1", "Service"), client.resource("v1", "Namespace")
    out = {f"labels {s}": client.list(svc, "shop", label_selector=s)[0] for s in LABEL_SELECTORS}
    out.update({f"name {n}": client.list(svc, "shop", field_selector=f"metadata.name={n}")[0]
                for n in [*SERVICES, "nope"]})
    out["name and labels"] = client.list(svc, "shop", label_selector="app=a", field_selector="metadata.name==svc-a")[0]
    out.update({f"get {n}": client.get(svc, "shop", n) for n in [*SERVICES, "nope"]})
    out["namespace shop"] = client.list(ns, None, field_selector="metadata.name=shop")[0]
    out["get namespace shop"] = client.get(ns, None, "shop")
    out["other namespace"] = client.list(svc, "default", label_selector="app=a")[0]
    return out


def test_one_list_per_kind_and_namespace_answers_what_the_server_answers(shop):
    client, counted = shop
    alone = _reads(client)
    assert [o["metadata"]["name"] for o in alone["labels app!=a"]] == ["svc-b", "svc-c"]  # the fixture holds
    assert alone["get nope"] is None and alone["name svc-b"][0]["metadata"]["labels"] == {"app": "b"}
    counted.clear()
    with client.shared_reads() as shared:
        together = _reads(client)
    assert together == alone
    assert len(counted) == shared.lists_asked == 3  # Services in shop, in default; Namespaces


def test_selectors_it_does_not_filter_go_to_the_server(shop):
    client, counted = shop
    svc = client.resource("v1", "Service")
    alone = client.list(svc, "shop", label_selector="app in (a,b)")[0]
    counted.clear()
    with client.shared_reads():
        together = client.list(svc, "shop", label_selector="app in (a,b)")[0]
        client.list(svc, "shop", field_selector="metadata.namespace=shop")
    assert together == alone and len(together) == 2
    assert len(counted) == 2


def test_a_group_not_served_is_asked_about_once_per_scope(shop):
    client, counted = shop
    counted.clear()
    with client.shared_reads():
        for _ in range(3):
            with pytest.raises(ClusterError) as err:
                client.resource("gateway.networking.k8s.io/v1", "Gateway")
            assert err.value.status == 404 and "does not serve" in str(err.value)
    assert len(counted) == 1
    with pytest.raises(ClusterError):
        client.resource("gateway.networking.k8s.io/v1", "Gateway")  # outside: asked again
    assert len(counted) == 2


def test_label_matcher_reads_selectors_as_the_api_server_does():
    labels = {"app": "a", "tier": "web", "example.com/owner": "x"}
    assert label_matcher("app=a,tier=web")(labels) and label_matcher("example.com/owner==x")(labels)
    assert not label_matcher("app=b")(labels) and not label_matcher("app!=a")(labels)
    assert label_matcher("app!=b")(labels) and label_matcher("missing!=b")(labels)
    assert label_matcher("app")(labels) and not label_matcher("!app")(labels) and label_matcher("!nope")(labels)
    assert not label_matcher("tier=")(labels) and label_matcher("tier=")({"tier": ""})
    for other in ("app in (a,b)", "app notin (b)", "app = a", "app=a b", "!app=a", "app>1", ","):
        assert label_matcher(other) is None, other
