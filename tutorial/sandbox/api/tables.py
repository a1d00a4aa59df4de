"""meta.k8s.io/v1 Table responses, so `kubectl get` prints the familiar columns.

Built-in kinds get the columns the real API server prints; CRD kinds get their
additionalPrinterColumns (JSONPath evaluated here), or NAME and AGE by default.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tutorial.sandbox.api.resources import ResourceType
from tutorial.sandbox.api.tablecells import AGE, NAME, _col, age, shared_columns
from tutorial.sandbox.api.tables_workloads import workload_columns


# ---- a small JSONPath evaluator for printer columns ----
_TOKEN = re.compile(r"\.([A-Za-z0-9_\-/]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*[\"']([^\"']*)[\"']\)\]")


def jsonpath(obj: Any, path: str) -> list:
    """Evaluate .a.b, [n], [*] and [?(@.k=="v")] steps; returns every match."""
    path = path.strip().strip("{}")
    if path.startswith("$"):
        path = path[1:]
    current = [obj]
    pos = 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            return []
        pos = m.end()
        current = _step(current, m)
    return current


def _step(values: list, m: re.Match) -> list:
    field, index, fkey, fval = m.groups()
    out = []
    for v in values:
        if field is not None:
            if isinstance(v, dict) and field in v:
                out.append(v[field])
            elif isinstance(v, list) and field:
                out.extend(i[field] for i in v if isinstance(i, dict) and field in i)
        elif index is not None and isinstance(v, list):
            out.extend(v if index == "*" else v[int(index):int(index) + 1])
        elif fkey is not None and isinstance(v, list):
            out.extend(i for i in v if isinstance(i, dict) and str(_dig(i, fkey)) == fval)
    return out


def _dig(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _cell(values: list, type_: str) -> Any:
    if not values:
        return None
    if type_ == "date":
        return age(values[0]) if isinstance(values[0], str) else None
    if len(values) == 1:
        v = values[0]
        return json.dumps(v) if isinstance(v, (dict, list)) else v
    return ",".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v) for v in values)


def _crd_columns(rt: ResourceType) -> list[tuple[dict, Any]]:
    cols = [(NAME, lambda o: o["metadata"]["name"])]
    if not rt.printer_columns:
        return cols + [(AGE, lambda o: age(o["metadata"].get("creationTimestamp")))]
    for pc in rt.printer_columns:
        type_ = pc.get("type", "string")
        col = _col(pc["name"], "string" if type_ == "date" else type_, int(pc.get("priority", 0)))
        col["description"] = pc.get("description", pc["name"])
        cols.append((col, lambda o, p=pc["jsonPath"], t=type_: _cell(jsonpath(o, p), t)))
    return cols


def pod_status(o: dict) -> str:
    """What kubectl shows in STATUS: Terminating, a container's waiting reason, or the phase."""
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = o.get("status") or {}
    reason = status.get("reason")
    for cs in status.get("initContainerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason") not in (None, "PodInitializing"):
            return "Init:" + state["waiting"]["reason"]
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    return reason or status.get("phase") or "Pending"


def _pod_ready(o: dict) -> str:
    total = len((o.get("spec") or {}).get("containers") or [])
    ready = sum(1 for cs in (o.get("status") or {}).get("containerStatuses") or [] if cs.get("ready"))
    return f"{ready}/{total}"


def _restarts(o: dict) -> int:
    return sum(int(cs.get("restartCount", 0)) for cs in (o.get("status") or {}).get("containerStatuses") or [])


def _svc_ports(o: dict) -> str:
    parts = []
    for p in (o.get("spec") or {}).get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        parts.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _external_ip(o: dict) -> str:
    spec = o.get("spec") or {}
    ingress = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    ips = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
    ips += spec.get("externalIPs") or []
    if spec.get("type") == "ExternalName":
        return spec.get("externalName", "<none>")
    if ips:
        return ",".join(ips)
    return "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"


def _endpoints(o: dict) -> str:
    out = []
    for subset in o.get("subsets") or []:
        for a in subset.get("addresses") or []:
            for p in subset.get("ports") or [{}]:
                out.append(f"{a.get('ip')}:{p['port']}" if p.get("port") else a.get("ip", ""))
    if not out:
        return "<none>"
    return ",".join(out[:3]) + (f" + {len(out) - 3} more..." if len(out) > 3 else "")


def _event_object(o: dict) -> str:
    inv = o.get("involvedObject") or o.get("regarding") or {}
    return f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}"


def _ts(o: dict, *fields: str) -> str:
    for f in fields:
        v = o.get(f) if "." not in f else _dig(o, f)
        if v:
            return age(v)
    return age(o["metadata"].get("creationTimestamp"))


def _node_status(o: dict) -> str:
    conds = {c.get("type"): c.get("status") for c in (o.get("status") or {}).get("conditions") or []}
    status = {"True": "Ready", "False": "NotReady"}.get(conds.get("Ready"), "Unknown")
    return status + (",SchedulingDisabled" if (o.get("spec") or {}).get("unschedulable") else "")


def _node_roles(o: dict) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in (o["metadata"].get("labels") or {}) if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _node_address(o: dict, kind: str) -> str:
    addrs = [a.get("address") for a in (o.get("status") or {}).get("addresses") or [] if a.get("type") == kind]
    return ",".join(a for a in addrs if a) or "<none>"


def _builtin_columns() -> dict[tuple[str, str], list]:
    name, age_, st, sp, images, conts, sel = shared_columns()
    return {
        ("", "pods"): [name, (_col("Ready"), _pod_ready), (_col("Status"), pod_status),
                       (_col("Restarts", "integer"), _restarts), age_,
                       (_col("IP", priority=1), lambda o: st(o).get("podIP") or "<none>"),
                       (_col("Node", priority=1), lambda o: sp(o).get("nodeName") or "<none>"),
                       (_col("Nominated Node", priority=1), lambda o: "<none>"),
                       (_col("Readiness Gates", priority=1), lambda o: "<none>")],
        ("apps", "deployments"): [
            name, (_col("Ready"), lambda o: f"{st(o).get('readyReplicas', 0)}/{sp(o).get('replicas', 1)}"),
            (_col("Up-to-date", "integer"), lambda o: st(o).get("updatedReplicas", 0)),
            (_col("Available", "integer"), lambda o: st(o).get("availableReplicas", 0)), age_, conts, images, sel],
        ("apps", "replicasets"): [
            name, (_col("Desired", "integer"), lambda o: sp(o).get("replicas", 1)),
            (_col("Current", "integer"), lambda o: st(o).get("replicas", 0)),
            (_col("Ready", "integer"), lambda o: st(o).get("readyReplicas", 0)), age_, conts, images, sel],
        ("", "services"): [
            name, (_col("Type"), lambda o: sp(o).get("type", "ClusterIP")),
            (_col("Cluster-IP"), lambda o: sp(o).get("clusterIP") or "<none>"),
            (_col("External-IP"), _external_ip), (_col("Port(s)"), _svc_ports), age_,
            (_col("Selector", priority=1),
             lambda o: ",".join(f"{k}={v}" for k, v in (sp(o).get("selector") or {}).items()) or "<none>")],
        ("", "namespaces"): [name, (_col("Status"), lambda o: st(o).get("phase", "Active")), age_],
        ("", "events"): [
            (_col("Last Seen"), lambda o: _ts(o, "lastTimestamp", "eventTime", "firstTimestamp")),
            (_col("Type"), lambda o: o.get("type", "")), (_col("Reason"), lambda o: o.get("reason", "")),
            (_col("Object"), _event_object), (_col("Message"), lambda o: o.get("message") or o.get("note", ""))],
        ("", "endpoints"): [name, (_col("Endpoints"), _endpoints), age_],
        ("discovery.k8s.io", "endpointslices"): [
            name, (_col("AddressType"), lambda o: o.get("addressType", "")),
            (_col("Ports"), lambda o: ",".join(str(p.get("port")) for p in o.get("ports") or []) or "<unset>"),
            (_col("Endpoints"), lambda o: ",".join(a for e in o.get("endpoints") or []
                                                   for a in e.get("addresses") or []) or "<unset>"), age_],
        ("", "nodes"): [name, (_col("Status"), _node_status), (_col("Roles"), _node_roles), age_,
                        (_col("Version"), lambda o: (st(o).get("nodeInfo") or {}).get("kubeletVersion", "")),
                        (_col("Internal-IP", priority=1), lambda o: _node_address(o, "InternalIP")),
                        (_col("External-IP", priority=1), lambda o: _node_address(o, "ExternalIP")),
                        (_col("OS-Image", priority=1), lambda o: (st(o).get("nodeInfo") or {}).get("osImage", "")),
                        (_col("Kernel-Version", priority=1),
                         lambda o: (st(o).get("nodeInfo") or {}).get("kernelVersion", "")),
                        (_col("Container-Runtime", priority=1),
                         lambda o: (st(o).get("nodeInfo") or {}).get("containerRuntimeVersion", ""))],
        ("", "configmaps"): [name, (_col("Data", "integer"),
                                    lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})), age_],
        ("", "secrets"): [name, (_col("Type"), lambda o: o.get("type", "Opaque")),
                          (_col("Data", "integer"), lambda o: len(o.get("data") or {})), age_],
        ("", "serviceaccounts"): [name, (_col("Secrets", "integer"), lambda o: len(o.get("secrets") or [])), age_],
        ("apiextensions.k8s.io", "customresourcedefinitions"): [
            name, (_col("Created At", "date"), lambda o: o["metadata"].get("creationTimestamp"))],
    }


_BUILTIN = _builtin_columns()


_BUILTIN.update(workload_columns())


def columns_for(rt: ResourceType) -> list[tuple[dict, Any]]:
    if rt.crd:
        return _crd_columns(rt)
    return _BUILTIN.get(rt.storage_gr, [(NAME, lambda o: o["metadata"]["name"]),
                                        (AGE, lambda o: age(o["metadata"].get("creationTimestamp")))])


def build_table(rt: ResourceType, objects: list[dict], resource_version: str | None = None,
                continue_token: str | None = None) -> dict:
    """A Table for objects of type rt; every row carries the object for -L and --show-labels."""
    cols = columns_for(rt)
    rows = []
    for obj in objects:
        cells = []
        for _, fn in cols:
            try:
                cells.append(fn(obj))
            except (KeyError, TypeError, ValueError, AttributeError):
                cells.append(None)  # a malformed object prints <none> rather than failing the list
        rows.append({"cells": cells, "object": obj})
    meta = {"resourceVersion": resource_version or ""}
    if continue_token:
        meta["continue"] = continue_token
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
            "columnDefinitions": [c for c, _ in cols], "rows": rows}
