"""Pure summaries of Kubernetes objects for the evidence dict: only what explanations need
(conditions, listeners with allowedRoutes, route parents and backends, pod states), JSON-able."""

from __future__ import annotations

def conds_of(obj: dict | None) -> list[dict]:
    return [{k: c.get(k) for k in ("type", "status", "reason", "message")}
            for c in ((obj or {}).get("status") or {}).get("conditions") or []]


def gateway_summary(gw: dict) -> dict:
    spec, status = gw.get("spec") or {}, gw.get("status") or {}
    listeners_status = {l.get("name"): l for l in status.get("listeners") or []}
    listeners = []
    for index, l in enumerate(spec.get("listeners") or []):
        allowed = (l.get("allowedRoutes") or {}).get("namespaces") or {}
        st = listeners_status.get(l.get("name")) or {}
        listeners.append({"name": l.get("name"), "index": index, "port": l.get("port"),
                          "protocol": l.get("protocol"), "hostname": l.get("hostname"),
                          "allowed_from": allowed.get("from", "Same"),
                          "selector": (allowed.get("selector") or {}).get("matchLabels") or {},
                          "attachedRoutes": st.get("attachedRoutes"), "conditions": conds_of({"status": st}),
                          "has_status": bool(st)})
    return {"name": gw["metadata"]["name"], "namespace": gw["metadata"].get("namespace"), "found": True,
            "class": spec.get("gatewayClassName"), "conditions": conds_of(gw),
            "addresses": [a.get("value") for a in status.get("addresses") or []],
            "annotations": gw["metadata"].get("annotations") or {}, "listeners": listeners}


def route_summary(route: dict) -> dict:
    spec, ns = route.get("spec") or {}, route["metadata"].get("namespace")
    backends = [{"name": b.get("name"), "namespace": b.get("namespace"), "port": b.get("port"),
                 "kind": b.get("kind", "Service")}
                for rule in spec.get("rules") or [] for b in rule.get("backendRefs") or []]
    parents = [{"parentRef": p.get("parentRef") or {}, "conditions": conds_of({"status": p})}
               for p in (route.get("status") or {}).get("parents") or []]
    return {"name": route["metadata"]["name"], "namespace": ns, "hostnames": spec.get("hostnames") or [],
            "parent_refs": [{"name": r.get("name"), "namespace": r.get("namespace"), "port": r.get("port"),
                             "sectionName": r.get("sectionName")} for r in spec.get("parentRefs") or []],
            "parents": parents, "backends": backends}


def service_summary(svc: dict) -> dict:
    spec = svc.get("spec") or {}
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return {"name": svc["metadata"]["name"], "namespace": svc["metadata"].get("namespace"),
            "type": spec.get("type", "ClusterIP"), "external": [i.get("ip") or i.get("hostname") for i in ingress],
            "ports": [p.get("port") for p in spec.get("ports") or []]}


def pod_summary(pod: dict) -> dict:
    """Name, phase, readiness, and the first container's waiting/terminated story."""
    st = pod.get("status") or {}
    scheduled = next((c for c in st.get("conditions") or [] if c.get("type") == "PodScheduled"), {})
    out = {"name": pod["metadata"]["name"], "namespace": pod["metadata"].get("namespace"),
           "phase": st.get("phase", "Pending"), "ready": pod_ok(pod), "state": st.get("phase", "Pending"),
           "message": "", "restarts": 0, "last_reason": None, "exit_code": None, "container": None,
           "image": None, "scheduled": {k: scheduled.get(k) for k in ("status", "reason", "message")}}
    images = {c.get("name"): c.get("image") for c in (pod.get("spec") or {}).get("containers") or []}
    for cs in st.get("containerStatuses") or []:
        state, last = cs.get("state") or {}, (cs.get("lastState") or {}).get("terminated") or {}
        out["restarts"] = max(out["restarts"], cs.get("restartCount", 0))
        detail = state.get("waiting") or state.get("terminated") or {}
        if detail.get("reason") and out["container"] is None:
            out.update(state=detail["reason"], message=detail.get("message", ""), container=cs.get("name"),
                       image=cs.get("image") or images.get(cs.get("name")))
        if last.get("reason"):
            out.update(last_reason=last["reason"], exit_code=last.get("exitCode"))
    if scheduled.get("status") == "False":
        out.update(state="Unschedulable", message=scheduled.get("message", ""))
    if out["image"] is None and images:
        out["container"], out["image"] = next(iter(images.items()))
    return out


def pod_ok(pod: dict) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def refers_to(route: dict, ns: str, name: str) -> bool:
    rns = route["metadata"].get("namespace")
    return any(r.get("name") == name and r.get("namespace", rns) == ns
               and r.get("kind", "Gateway") == "Gateway" for r in (route.get("spec") or {}).get("parentRefs") or [])


def match_labels(selector: dict | None) -> str | None:
    labels = (selector or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or None


def cluster_flavor(context: str, nodes: list[str], sandbox: bool = False) -> str:
    """kind, minikube, k3d, docker-desktop, sandbox or other: decides which LoadBalancer fix to show."""
    if sandbox:
        return "sandbox"
    names = " ".join([context] + nodes).lower()
    for flavor, marks in (("kind", ("kind-",)), ("minikube", ("minikube",)), ("k3d", ("k3d-",)),
                          ("docker-desktop", ("docker-desktop",))):
        if any(m in names for m in marks):
            return flavor
    return "other"
