"""No input from the cluster can crash explain, check --json, map or the TUI's explanation panel,
and what they say is honest (a title, a why, a fix; never a placeholder or None).

Property-based (hypothesis) over generated cluster evidence and map snapshots: realistic shapes
with missing fields, empty lists and values of the wrong type. Fixed seed, bounded budget, so the
test runs the same in CI every time. The sandbox half (every pair of faults) is in
test_property_faults.py.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, seed, settings, strategies as st

from tutorial.engine.explain import explain_evidence
from tutorial.engine.trafficmap import build_map

PLACEHOLDER = re.compile(r"<(?!pending>)[a-z_]+>|\{[a-z_]+\}")  # kubectl's own <pending> is a quote
BUDGET = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TYPES = ["Accepted", "Programmed", "ResolvedRefs", "Conflicted", "Ready", "PodScheduled", "Available", "Weird"]
REASONS = ["Accepted", "NotAllowedByListeners", "NoMatchingParent", "BackendNotFound", "RefNotPermitted",
           "AddressNotAssigned", "Pending", "UnsupportedProtocol", "Invalid", "Unschedulable", "Mystery", None]
KINDS = ["namespace_exists", "crd_established", "deployment_available", "pods_ready", "resource_exists",
         "condition", "gateway_programmed", "listener_attached_routes", "route_accepted", "http_get",
         "command_succeeds", "route_backend_ports", "command", "unknown_kind"]
STATES = ["Running", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "Unschedulable", "Pending",
          "CreateContainerConfigError", "OOMKilled", None]

# Cluster words: letters, digits, punctuation and non-ASCII, but no "<" or "{" (so a placeholder
# found in the output can only come from our templates, not from a quoted message).
text = st.text(alphabet="abcXYZ019 -_./:\"'é✔\n", max_size=12)
name = st.one_of(st.sampled_from(["emojivoto", "web-svc", "istio-ingress", "web", ""]), text)
junk = st.one_of(st.none(), st.integers(-5, 70000), text, st.booleans(), st.just([]), st.just({}),
                 st.lists(st.integers(), max_size=2))


def maybe(strategy):
    """Usually the realistic value, sometimes missing-as-None, sometimes the wrong type."""
    return st.one_of(strategy, strategy, strategy, junk)


cond = st.fixed_dictionaries({"type": maybe(st.sampled_from(TYPES))},
                             optional={"status": maybe(st.sampled_from(["True", "False", "Unknown"])),
                                       "reason": maybe(st.sampled_from(REASONS)), "message": maybe(text),
                                       "observedGeneration": maybe(st.integers(0, 3))})
conds = maybe(st.lists(maybe(cond), max_size=4))
listener = st.fixed_dictionaries({}, optional={
    "name": maybe(name), "port": maybe(st.sampled_from([80, 8080])), "protocol": maybe(st.sampled_from(["HTTP", "http"])),
    "index": maybe(st.integers(0, 2)), "attachedRoutes": maybe(st.integers(0, 3)), "conditions": conds,
    "allowed_from": maybe(st.sampled_from(["Same", "All", "Selector"])), "selector": maybe(st.dictionaries(name, name, max_size=2)),
    "hostname": maybe(name)})
gateway = st.fixed_dictionaries({}, optional={
    "name": maybe(name), "namespace": maybe(name), "found": maybe(st.booleans()), "class": maybe(name),
    "conditions": conds, "addresses": maybe(st.lists(maybe(name), max_size=2)),
    "listeners": maybe(st.lists(maybe(listener), max_size=2)), "elsewhere": maybe(st.lists(name, max_size=2))})
route = st.fixed_dictionaries({}, optional={
    "name": maybe(name), "namespace": maybe(name), "hostnames": maybe(st.lists(name, max_size=2)),
    "parent_refs": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "namespace": maybe(name),
                                                                             "port": maybe(st.integers(0, 9000))})),
                                  max_size=2)),
    "parents": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"parentRef": maybe(st.fixed_dictionaries(
        {}, optional={"name": maybe(name), "namespace": maybe(name)})), "conditions": conds})), max_size=2)),
    "backends": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "port": maybe(st.integers(0, 9000)),
                                                                          "namespace": maybe(name)})), max_size=2)),
    "namespace_labels": maybe(st.dictionaries(name, name, max_size=2))})
pod = st.fixed_dictionaries({}, optional={
    "name": maybe(name), "namespace": maybe(name), "ready": maybe(st.booleans()), "state": maybe(st.sampled_from(STATES)),
    "message": maybe(text), "restarts": maybe(st.integers(0, 9)), "last_reason": maybe(st.sampled_from(STATES)),
    "exit_code": maybe(st.integers(0, 255)), "container": maybe(st.sampled_from(["web-svc", "istio-proxy", "discovery"])),
    "image": maybe(name)})
event = st.fixed_dictionaries({}, optional={
    "kind": maybe(st.sampled_from(["Pod", "Gateway"])), "name": maybe(name), "type": maybe(st.sampled_from(["Warning", "Normal"])),
    "reason": maybe(st.sampled_from(["FailedScheduling", "BackOff", "Failed"])), "message": maybe(text)})
check = st.fixed_dictionaries({"kind": maybe(st.sampled_from(KINDS))}, optional={
    "id": maybe(name), "title": maybe(text), "observed": maybe(text), "error": maybe(text),
    "unreachable": maybe(st.booleans())})
evidence = st.fixed_dictionaries({"check": maybe(check)}, optional={
    "params": maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "namespace": maybe(name),
                                                        "object_kind": maybe(st.sampled_from(["Gateway", "HTTPRoute"]))})),
    "object": maybe(st.fixed_dictionaries({}, optional={"kind": maybe(st.sampled_from(["Gateway", "HTTPRoute", "Deployment"])),
                                                        "name": maybe(name), "namespace": maybe(name),
                                                        "found": maybe(st.booleans())})),
    "conditions": conds, "parents": maybe(st.lists(junk, max_size=2)), "listeners": maybe(st.lists(maybe(listener), max_size=2)),
    "missing": maybe(st.lists(name, max_size=2)), "gateway": maybe(gateway), "routes": maybe(st.lists(maybe(route), max_size=2)),
    "pods": maybe(st.lists(maybe(pod), max_size=3)), "events": maybe(st.lists(maybe(event), max_size=3)),
    "gatewayclass": maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "found": maybe(st.booleans()),
                                                              "controller": maybe(name), "conditions": conds})),
    "service": maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "type": maybe(st.sampled_from(["LoadBalancer", "ClusterIP"])),
                                                         "external": maybe(st.lists(name, max_size=1))})),
    "http": maybe(st.fixed_dictionaries({}, optional={"url": maybe(st.sampled_from(["http://127.0.0.1:8080/", "http://x/", ""])),
                                                      "status": maybe(st.sampled_from([200, 404, 500, 503, None])),
                                                      "error": maybe(text), "host": maybe(name), "port": maybe(st.integers(0, 9000))})),
    "command": maybe(st.fixed_dictionaries({}, optional={"argv": maybe(st.lists(name, max_size=4)), "exit_code": maybe(st.integers(0, 2)),
                                                         "output": maybe(text), "missing_executable": maybe(name)})),
    "istio": maybe(st.fixed_dictionaries({}, optional={"version": maybe(st.sampled_from(["1.27.1", "1.21.0", "x"])),
                                                       "installed": maybe(st.booleans()), "installer": maybe(name)})),
    "crds": maybe(st.fixed_dictionaries({}, optional={"bundle_versions": maybe(st.dictionaries(name, maybe(st.sampled_from(["v1.3.0", "v1.5.0"])), max_size=2))})),
    "deployments": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "namespace": maybe(name),
                                                                             "replicas": maybe(st.integers(0, 2))})), max_size=2)),
    "backend_ports": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={
        "route": maybe(name), "route_ns": maybe(name), "rule": maybe(st.integers(0, 1)), "ref": maybe(st.integers(0, 1)),
        "service": maybe(name), "port": maybe(st.integers(0, 9000)), "service_ports": maybe(st.lists(st.integers(0, 9000), max_size=2)),
        "target_ports": maybe(st.lists(st.integers(0, 9000), max_size=2))})), max_size=1)),
    "cluster": maybe(st.fixed_dictionaries({}, optional={"flavor": maybe(st.sampled_from(["kind", "k3d", "sandbox"])),
                                                         "context": maybe(name), "sandbox": maybe(st.booleans())})),
})


def assert_honest(view_json: dict) -> None:
    """A title, a why and a fix, each real words; no placeholder, no None, a runnable argv or none."""
    json.dumps(view_json)  # what check --json and explain --json print
    for key in ("title", "why", "fix"):
        value = view_json[key]
        assert isinstance(value, str) and value.strip(), (key, view_json)
        assert not PLACEHOLDER.search(value), (key, value)
    assert "None" not in view_json["title"].split(), view_json["title"]
    argv = view_json.get("fix_command")
    assert argv is None or (isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)
                            and "None" not in argv), argv


def assert_panel_renders(view_json: dict) -> None:
    """The TUI's explanation panel builds its widgets from the same dict without raising."""
    from tutorial.ui.widgets.step_parts import ExplanationPanel

    parts = ExplanationPanel.parts(view_json)
    assert parts


@seed(14)
@BUDGET
@given(evidence)
def test_explain_never_crashes_and_stays_honest(ev):
    view = explain_evidence(ev)
    out = view.to_json(with_evidence=False)
    assert_honest(out)
    assert_panel_renders(out)


obj_meta = st.fixed_dictionaries({"name": maybe(name)}, optional={"namespace": maybe(name),
                                                                  "labels": maybe(st.dictionaries(name, name, max_size=2)),
                                                                  "generation": maybe(st.integers(0, 3))})
k8s_obj = st.fixed_dictionaries({"metadata": maybe(obj_meta)}, optional={
    "spec": maybe(st.fixed_dictionaries({}, optional={
        "gatewayClassName": maybe(name), "listeners": maybe(st.lists(maybe(listener), max_size=2)),
        "parentRefs": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"name": maybe(name), "namespace": maybe(name)})), max_size=2)),
        "rules": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"backendRefs": maybe(st.lists(maybe(
            st.fixed_dictionaries({}, optional={"name": maybe(name), "port": maybe(st.integers(0, 9000))})), max_size=2))})), max_size=2)),
        "selector": maybe(st.dictionaries(name, name, max_size=2)), "type": maybe(st.sampled_from(["LoadBalancer", "ClusterIP"])),
        "ports": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"port": maybe(st.integers(0, 9000))})), max_size=2)),
        "controllerName": maybe(name), "containers": maybe(st.lists(junk, max_size=1))})),
    "status": maybe(st.fixed_dictionaries({}, optional={
        "conditions": conds, "addresses": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"value": maybe(name)})), max_size=2)),
        "listeners": maybe(st.lists(maybe(listener), max_size=2)), "parents": maybe(st.lists(junk, max_size=2)),
        "phase": maybe(st.sampled_from(["Running", "Pending"])), "containerStatuses": maybe(st.lists(junk, max_size=2)),
        "loadBalancer": maybe(st.fixed_dictionaries({}, optional={"ingress": maybe(st.lists(junk, max_size=1))}))}))})
snapshot = st.fixed_dictionaries({}, optional={key: maybe(st.lists(maybe(k8s_obj), max_size=2))
                                               for key in ("gateways", "classes", "routes", "services", "pods",
                                                           "namespaces")})


@seed(14)
@BUDGET
@given(snapshot)
def test_map_never_crashes_and_explains_honestly(snap):
    tmap = build_map(snap, {"context": "kind-lab", "sandbox": False})
    for node in tmap.problems():
        if node.explanation:
            expl = {"check": "map", "check_title": node.title, **node.explanation}
            assert_honest(expl)
            assert_panel_renders(expl)
    json.dumps(tmap.to_json() if hasattr(tmap, "to_json") else {}, default=str)
