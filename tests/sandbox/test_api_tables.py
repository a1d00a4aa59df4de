"""Table columns: the JSONPath subset for printer columns, durations, pod STATUS, CRD columns."""

from __future__ import annotations

import pytest

from tutorial.sandbox.api import tablecells, tables
from tutorial.sandbox.api.resources import Registry, crd_resource_type

GATEWAY = {"metadata": {"name": "g", "creationTimestamp": "2020-01-01T00:00:00Z"},
           "spec": {"gatewayClassName": "istio"},
           "status": {"addresses": [{"value": "10.0.0.1"}, {"value": "10.0.0.2"}],
                      "conditions": [{"type": "Accepted", "status": "True"},
                                     {"type": "Programmed", "status": "False"}]}}


@pytest.mark.parametrize("path,want", [
    (".spec.gatewayClassName", ["istio"]),
    (".status.addresses[*].value", ["10.0.0.1", "10.0.0.2"]),
    (".status.addresses[1].value", ["10.0.0.2"]),
    ('.status.conditions[?(@.type=="Programmed")].status', ["False"]),
    (".status.missing", []),
    ("{.metadata.name}", ["g"]),
])
def test_jsonpath_subset(path, want):
    assert tables.jsonpath(GATEWAY, path) == want


@pytest.mark.parametrize("seconds,text", [(5, "5s"), (119, "119s"), (200, "3m20s"), (600, "10m"),
                                          (3 * 3600 + 600, "3h10m"), (30 * 3600, "30h"), (50 * 3600, "2d2h"),
                                          (40 * 86400, "40d"), (3 * 365 * 86400, "3y")])
def test_human_duration(seconds, text):
    assert tablecells.human_duration(seconds) == text


@pytest.mark.parametrize("status,want", [
    ({}, "Pending"),
    ({"phase": "Running"}, "Running"),
    ({"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]},
     "ImagePullBackOff"),
    ({"phase": "Running", "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}]},
     "CrashLoopBackOff"),
    ({"phase": "Pending", "initContainerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull"}}}]},
     "Init:ErrImagePull"),
])
def test_pod_status_column(status, want):
    assert tables.pod_status({"metadata": {"name": "p"}, "status": status}) == want
    assert tables.pod_status({"metadata": {"name": "p", "deletionTimestamp": "x"}, "status": status}) == "Terminating"


def test_crd_printer_columns_and_default_columns():
    crd = {"metadata": {"name": "gateways.gateway.networking.k8s.io"},
           "spec": {"group": "gateway.networking.k8s.io", "scope": "Namespaced",
                    "names": {"plural": "gateways", "kind": "Gateway", "shortNames": ["gtw"]},
                    "versions": [{"name": "v1", "served": True, "storage": True, "additionalPrinterColumns": [
                        {"name": "Class", "type": "string", "jsonPath": ".spec.gatewayClassName"},
                        {"name": "Address", "type": "string", "jsonPath": ".status.addresses[*].value"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                        {"name": "Hidden", "type": "string", "jsonPath": ".spec.x", "priority": 1}]}]}}
    table = tables.build_table(crd_resource_type(crd), [GATEWAY], "7")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Class", "Address", "Age", "Hidden"]
    assert table["columnDefinitions"][-1]["priority"] == 1
    cells = table["rows"][0]["cells"]
    assert cells[:3] == ["g", "istio", "10.0.0.1,10.0.0.2"] and cells[3].endswith("y") and cells[4] is None
    crd["spec"]["versions"][0].pop("additionalPrinterColumns")
    plain = tables.build_table(crd_resource_type(crd), [GATEWAY])
    assert [c["name"] for c in plain["columnDefinitions"]] == ["Name", "Age"]


def test_service_columns():
    rt = Registry.builtin().by_gr(("", "services"))
    svc = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.9",
                                                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]},
           "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.2"}]}}}
    cells = tables.build_table(rt, [svc])["rows"][0]["cells"]
    assert cells[:5] == ["lb", "LoadBalancer", "10.96.0.9", "127.0.0.2", "80:30080/TCP"]
    svc.pop("status")
    assert tables.build_table(rt, [svc])["rows"][0]["cells"][3] == "<pending>"
