"""The traffic map: the north/south path a request takes, from live cluster state, and where it breaks.

client -> Gateway (address) -> its Service -> its pods -> listener -> HTTPRoute -> backend Service
-> the app's pods. `build_map` is pure (dicts in, a tree of Nodes out). The live parts
(`load_snapshot` lists the objects through a ClusterClient, `follow` rebuilds the map on every watch
event, `traffic_map`, `cluster_info`) are in trafficmap_live and importable from here too. A node
that is not healthy carries the explanation of its failure (from tutorial.engine.explain). No textual here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutorial.engine.checks import conditions_of, find_condition, pod_ready, pod_state
from tutorial.engine.evidence import gateway_summary, pod_summary, route_summary, service_summary

GW = "gateway.networking.k8s.io/v1"
GW_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
NAME_OVERRIDE = "gateway.istio.io/name-override"
# Symbol and word for each state: never colour alone.
MARKS = {"ok": ("✔", "ok"), "pending": ("…", "pending"), "warn": ("!", "warning"), "broken": ("✘", "broken")}
SEVERITY = {"ok": 0, "pending": 1, "warn": 2, "broken": 3}
NEGATIVE = {"Conflicted", "OverlappingTLSConfig"}


@dataclass
class Link:
    """The arrow into a node: is traffic handed on, and in one word why (not)."""

    state: str
    word: str

    def to_json(self) -> dict:
        return {"state": self.state, "word": self.word}


@dataclass
class Node:
    """One hop of the path; `link` is the arrow from its parent, `explanation` says why it is not ok."""

    id: str
    kind: str
    title: str
    state: str
    word: str
    detail: list[str] = field(default_factory=list)
    link: Link | None = None
    explanation: dict | None = None
    data: dict = field(default_factory=dict)
    children: list["Node"] = field(default_factory=list)

    @property
    def worst(self) -> str:
        states = [self.state] + ([self.link.state] if self.link else [])
        return max(states, key=SEVERITY.__getitem__)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "state": self.state, "word": self.word,
                "detail": self.detail, "link": self.link.to_json() if self.link else None,
                "explanation": self.explanation, "data": self.data,
                "children": [c.to_json() for c in self.children]}


@dataclass
class TrafficMap:
    """The client root (its children: one chain per Gateway), routes attached nowhere, and notes."""

    root: Node
    unattached: list[Node] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def nodes(self):
        yield from self.root.walk()
        for node in self.unattached:
            yield from node.walk()

    def find(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes() if n.id == node_id), None)

    def problems(self) -> list[Node]:
        """Nodes (or their incoming links) that are not ok, path order."""
        return [n for n in self.nodes() if n.worst != "ok"]

    @property
    def state(self) -> str:
        if self.notes and not self.root.children:
            return "broken"
        return max((n.worst for n in self.nodes()), key=SEVERITY.__getitem__, default="ok")

    def to_json(self) -> dict:
        return {"state": self.state, "notes": self.notes, "root": self.root.to_json(),
                "unattached": [n.to_json() for n in self.unattached],
                "problems": [{"id": n.id, "title": n.title, "state": n.worst,
                              "rule": (n.explanation or {}).get("rule")} for n in self.problems()]}


# -- building (pure) ------------------------------------------------------------------

class _Index:
    """Lookups over one snapshot."""

    def __init__(self, snap: dict, cluster: dict):
        self.snap, self.cluster = snap, cluster
        self.services = {_key(s): s for s in snap.get("services") or []}
        self.classes = {c["metadata"]["name"]: c for c in snap.get("classes") or []}
        self.gateways = {_key(g): g for g in snap.get("gateways") or []}
        self.ns_labels = {n["metadata"]["name"]: n["metadata"].get("labels") or {}
                          for n in snap.get("namespaces") or []}

    def pods(self, ns: str, selector: dict) -> list[dict]:
        if not selector:
            return []
        # Terminating pods are no endpoints any more: leave them out.
        return [p for p in self.snap.get("pods") or [] if p["metadata"].get("namespace") == ns
                and not p["metadata"].get("deletionTimestamp")
                and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())]


def _key(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def build_map(snap: dict, cluster: dict | None = None) -> TrafficMap:
    """The whole map from a snapshot (see load_snapshot): pure, deterministic. An object the map
    cannot read (a shape the API would not normally serve) becomes a node that says so."""
    from tutorial.engine.trafficmap_shape import readable, unreadable_node

    snap = readable(snap)
    idx = _Index(snap, cluster or {})
    root = Node("client", "client", "you (browser, curl)", "ok", "HTTP client")
    attached: set[tuple[str, str]] = set()
    for gw in snap.get("gateways") or []:
        try:
            node, seen = _gateway_chain(idx, gw)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            node, seen = unreadable_node("Gateway", gw, exc), set()
        root.children.append(node)
        attached |= seen
    notes = list(snap.get("notes") or [])
    if not root.children and not notes:
        notes.append("No Gateway yet: nothing receives traffic from outside the cluster (lesson gateway).")
    unattached = []
    for r in snap.get("routes") or []:
        if _key(r) not in attached:
            try:
                unattached.append(_orphan(idx, r))
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
                unattached.append(unreadable_node("HTTPRoute", r, exc))
    return TrafficMap(root, unattached, notes)


def _summary(gw: dict) -> dict:
    """evidence.gateway_summary, with each listener's conditions read from its status entry
    (the summary looks for them one level too deep and reports none)."""
    summary = gateway_summary(gw)
    found = {l.get("name"): l for l in (gw.get("status") or {}).get("listeners") or []}
    for listener in summary["listeners"]:
        listener["conditions"] = list((found.get(listener["name"]) or {}).get("conditions") or [])
    return summary


def _gateway_chain(idx: _Index, gw: dict) -> tuple[Node, set]:
    """Gateway -> Service -> pods -> listeners -> routes, and which routes it took."""
    summary = _summary(gw)
    ns, name = summary["namespace"], summary["name"]
    node = _gateway_node(idx, gw, summary)
    svc_name = (gw["metadata"].get("annotations") or {}).get(NAME_OVERRIDE) or f"{name}-{summary['class']}"
    svc = idx.services.get((ns, svc_name))
    svc_node = _service_node(f"{node.id}/service", ns, svc_name, svc, gateway=True)
    pods = idx.pods(ns, {GW_NAME_LABEL: name})
    pods_node = _pods_node(idx, f"{node.id}/pods", ns, f"{GW_NAME_LABEL.split('/')[1]}={name}", pods)
    node.children.append(svc_node)
    svc_node.children.append(pods_node)
    seen: set = set()
    for listener in summary["listeners"]:
        lnode, taken = _listener_chain(idx, gw, summary, listener, node.id)
        pods_node.children.append(lnode)
        seen |= taken
    _explain_gateway(idx, gw, summary, node, svc, pods)
    if svc_node.state == "broken":
        svc_node.explanation = node.explanation
    return node, seen


def _gateway_node(idx: _Index, gw: dict, summary: dict) -> Node:
    conds = conditions_of(gw)
    accepted, programmed = find_condition(conds, "Accepted"), find_condition(conds, "Programmed")
    address = (summary["addresses"] or [None])[0]
    node = Node(f"gateway/{summary['namespace']}/{summary['name']}", "gateway",
                f"Gateway {summary['namespace']}/{summary['name']}", "ok", "Programmed",
                detail=[f"class {summary['class']}"],
                data={"namespace": summary["namespace"], "name": summary["name"], "class": summary["class"],
                      "address": address})
    if not _true(accepted):
        node.state, node.word = ("broken", _reason(accepted)) if _false(accepted) else \
            ("pending", "Waiting for controller")
    elif not _true(programmed):
        node.state, node.word = ("broken", _reason(programmed)) if _false(programmed) else ("pending", "not programmed yet")
    if _true(programmed) and "is remote" in (programmed.get("message") or ""):
        node.state, node.word = "warn", "remote: Istio will not program it"  # G04, class istio-remote
    pending = "address pending" in ((programmed or {}).get("message") or "")
    node.link = Link("ok", f"address {address}") if address else \
        Link("broken" if pending or _false(programmed) else "pending", "address pending" if pending else "no address")
    return node


def _service_node(node_id: str, ns: str, name: str, svc: dict | None, *, gateway: bool = False,
                  port: int | None = None) -> Node:
    title = f"Service {ns}/{name}"
    if svc is None:
        word = "not found" if not gateway else "not created (yet)"
        return Node(node_id, "service", title, "broken", word, link=Link("broken", "no Service"),
                    data={"namespace": ns, "name": name, "found": False})
    summary = service_summary(svc)
    node = Node(node_id, "service", title, "ok", summary["type"], data={**summary, "found": True})
    ports = (svc.get("spec") or {}).get("ports") or []
    if gateway:
        pending = summary["type"] == "LoadBalancer" and not summary["external"]
        node.link = Link("pending" if pending else "ok",
                         "EXTERNAL-IP pending" if pending else f"{summary['type']} {' '.join(summary['external'])}".strip())
        if pending:
            node.state, node.word = "pending", "EXTERNAL-IP pending"
        node.detail = ["ports " + ", ".join(str(p.get("port")) for p in ports)]
        return node
    match = next((p for p in ports if p.get("port") == port), None)
    if match is None:
        node.state, node.word = "warn", f"no port {port}"
        node.detail = ["ports " + ", ".join(str(p.get("port")) for p in ports) + f"; the route asks for {port} (HTTP 500)"]
    else:
        node.word = f"port {port} → {match.get('targetPort', port)}"
    return node


def _pods_node(idx: _Index, node_id: str, ns: str, selector_text: str, pods: list[dict]) -> Node:
    ready = sum(pod_ready(p) for p in pods)
    node = Node(node_id, "pods", f"Pods {ns} {selector_text}", "ok", f"{ready}/{len(pods)} ready",
                data={"namespace": ns, "selector": selector_text, "ready": ready, "total": len(pods),
                      "pods": [{"name": p["metadata"]["name"], "ready": pod_ready(p), "state": pod_state(p)}
                               for p in pods]})
    not_ready = [p for p in pods if not pod_ready(p)]
    node.detail = [f"{p['metadata']['name']}: {pod_state(p)}" for p in not_ready[:3]]
    if not pods:
        node.state, node.word = "broken", "no pods"
    elif not ready:
        state = "pending" if all(pod_state(p) in ("ContainerCreating", "Pending", "PodInitializing") for p in pods) \
            else "broken"
        node.state, node.word = state, f"0/{len(pods)} ready · {pod_state(not_ready[0])}"
    elif not_ready:
        node.state = "warn"
    node.link = Link(node.state if node.state != "warn" else "ok",
                     f"{len(pods)} pod(s) selected" if pods else "selects no pods")
    if node.state != "ok":
        node.explanation = _explain({"check": _check("pods_ready", f"pods {selector_text} ready in {ns}", node),
                                     "pods": [pod_summary(p) for p in pods]}, idx)
    return node


def _listener_chain(idx: _Index, gw: dict, summary: dict, listener: dict, gw_id: str) -> tuple[Node, set]:
    conds = listener["conditions"]
    accepted, programmed = find_condition(conds, "Accepted"), find_condition(conds, "Programmed")
    node = Node(f"{gw_id}/listener/{listener['name']}", "listener",
                f"Listener {listener['name']} {listener['protocol']} :{listener['port']}", "ok", "Programmed",
                data={k: listener.get(k) for k in ("name", "port", "protocol", "hostname", "allowed_from", "selector",
                                                   "attachedRoutes")})
    # Conflicted and OverlappingTLSConfig are good when False; every other condition when True.
    bad = next((c for c in conds if (_true(c) if c.get("type") in NEGATIVE else _false(c))), None)
    if bad is not None:
        node.state, node.word = "broken", _reason(bad)
    elif not listener["has_status"] or not _true(accepted) or not _true(programmed):
        node.state, node.word = "pending", "not reconciled yet"
    node.link = Link("ok" if _true(accepted) else node.state, _reason(accepted) if accepted else "no status yet")
    if listener.get("hostname"):
        node.detail.append(f"hostname {listener['hostname']}")
    node.detail.append(f"allowedRoutes from {listener['allowed_from']}"
                       + (f" {_labels(listener['selector'])}" if listener["selector"] else ""))
    taken = _attach_routes(idx, gw, summary, listener, node)
    if node.state != "ok" and node.explanation is None:
        node.explanation = _explain({"check": _check("gateway_programmed", node.title, node), "gateway": summary,
                                     "params": {"listener": listener["name"]}}, idx)
    return node, taken


def _attach_routes(idx: _Index, gw: dict, summary: dict, listener: dict, node: Node) -> set:
    """Hang every route whose parentRef fits this listener under it; a listener without any says 404."""
    taken = set()
    for route in idx.snap.get("routes") or []:
        if _parent_ref_for(route, summary, listener) is not None:
            taken.add(_key(route))
            node.children.append(_route_chain(idx, route, gw, summary, listener, node.id))
    if not node.children and node.state == "ok":
        node.state, node.word = "warn", "no routes attached (404)"
        ev = {"check": _check("listener_attached_routes", f"Gateway {summary['name']} has attached routes", node),
              "gateway": summary, "routes": [], "params": {"listener": listener["name"]}}
        node.explanation = _explain(ev, idx)
    elif node.state == "ok":
        node.word = f"Programmed · {len(node.children)} route(s)"
    return taken


def _parent_ref_for(route: dict, gw: dict, listener: dict) -> dict | None:
    """The route's parentRef naming this Gateway and fitting this listener (sectionName, port)."""
    rns = route["metadata"]["namespace"]
    for ref in (route.get("spec") or {}).get("parentRefs") or []:
        if (ref.get("kind", "Gateway") == "Gateway" and ref.get("name") == gw["name"]
                and ref.get("namespace", rns) == gw["namespace"]
                and ref.get("sectionName") in (None, listener["name"])
                and ref.get("port") in (None, listener["port"])):
            return ref
    return None


def _route_chain(idx: _Index, route: dict, gw: dict, summary: dict, listener: dict, parent_id: str) -> Node:
    rns, rname = _key(route)
    entry = _parent_entry(route, summary)
    conds = list((entry or {}).get("conditions") or [])
    accepted, resolved = find_condition(conds, "Accepted"), find_condition(conds, "ResolvedRefs")
    rules = _rules(route)
    node = Node(f"{parent_id}/route/{rns}/{rname}", "route", f"HTTPRoute {rns}/{rname}", "ok",
                "Accepted · ResolvedRefs", detail=[r["text"] for r in rules],
                data={"namespace": rns, "name": rname, "hostnames": (route.get("spec") or {}).get("hostnames") or [],
                      "rules": rules})
    if entry is None:
        node.link = Link("pending", "not reconciled yet")
        node.state, node.word = "pending", "no status for this Gateway yet"
    else:
        node.link = Link("ok" if _true(accepted) else ("broken" if _false(accepted) else "pending"),
                         _reason(accepted) if accepted else "not reconciled yet")
        if not _true(accepted):
            node.state, node.word = node.link.state, node.link.word
        elif _false(resolved):
            node.state, node.word = "broken", _reason(resolved)
    for i, rule in enumerate(rules):
        for b in rule["backends"]:
            node.children.append(_backend_chain(idx, b, node, resolved, i + 1))
    if node.state != "ok":
        node.explanation = _explain(_route_evidence(idx, route, summary, node, listener), idx)
        for child in node.children:
            if child.link and child.link.state == "broken" and child.explanation is None:
                child.explanation = node.explanation  # a missing backend is the route's failure
    return node


def _parent_entry(route: dict, summary: dict) -> dict | None:
    rns = route["metadata"]["namespace"]
    for entry in (route.get("status") or {}).get("parents") or []:
        ref = entry.get("parentRef") or {}
        if ref.get("name") == summary["name"] and ref.get("namespace", rns) == summary["namespace"]:
            return entry
    return None


def _rules(route: dict) -> list[dict]:
    rns = route["metadata"]["namespace"]
    out = []
    for i, rule in enumerate((route.get("spec") or {}).get("rules") or [{}]):
        matches = [_match_text(m) for m in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]]
        backends = [{"name": b.get("name"), "namespace": b.get("namespace", rns), "port": b.get("port"),
                     "kind": b.get("kind", "Service"), "weight": b.get("weight", 1)}
                    for b in rule.get("backendRefs") or []]
        targets = ", ".join(f"{b['name']}:{b['port']}" for b in backends) or "(no backends)"
        out.append({"matches": matches, "backends": backends, "text": f"rule {i + 1}: {' | '.join(matches)} → {targets}"})
    return out


def _match_text(m: dict) -> str:
    path = m.get("path") or {}
    text = f"{path.get('type', 'PathPrefix')} {path.get('value', '/')}"
    if m.get("method"):
        text = f"{m['method']} {text}"
    extra = len(m.get("headers") or []) + len(m.get("queryParams") or [])
    return text + (f" +{extra} condition(s)" if extra else "")


def _backend_chain(idx: _Index, b: dict, route_node: Node, resolved: dict | None, rule_no: int) -> Node:
    ns, name = b["namespace"], b["name"]
    node_id = f"{route_node.id}/rule{rule_no}/backend/{ns}/{name}"
    if b["kind"] != "Service":
        return Node(node_id, "backend", f"{b['kind']} {ns}/{name}", "warn", "not a Service: not followed",
                    link=Link("warn", b["kind"]))
    svc = idx.services.get((ns, name))
    node = _service_node(node_id, ns, name, svc, port=b["port"])
    node.kind = "backend"
    if rule_no > 1 or len(route_node.data["rules"]) > 1:
        node.detail.insert(0, f"rule {rule_no}")
    refs_ok = not _false(resolved)
    if svc is None:
        node.link = Link("broken", _reason(resolved) if _false(resolved) else "Service not found")
        return node  # the route's explanation is copied here once it is made
    node.link = Link("ok" if refs_ok else "broken", "ResolvedRefs" if refs_ok else _reason(resolved))
    selector = (svc.get("spec") or {}).get("selector") or {}
    pods = idx.pods(ns, selector)
    node.children.append(_pods_node(idx, f"{node_id}/pods", ns, _labels(selector) or "(no selector)", pods))
    return node


def _route_evidence(idx: _Index, route: dict, summary: dict, node: Node, listener: dict | None) -> dict:
    rs = route_summary(route)
    rs["namespace_labels"] = idx.ns_labels.get(rs["namespace"], {})
    return {"check": _check("route_accepted", f"HTTPRoute {rs['name']} Accepted", node),
            "object": {"kind": "HTTPRoute", "name": rs["name"], "namespace": rs["namespace"], "found": True},
            "gateway": summary, "routes": [rs], "parents": rs["parents"],
            "params": {"listener": listener["name"]} if listener else {}}


def _orphan(idx: _Index, route: dict) -> Node:
    """An HTTPRoute no Gateway on the map took: its parentRef names a Gateway that is not there."""
    rns, rname = _key(route)
    refs = (route.get("spec") or {}).get("parentRefs") or []
    names = ", ".join(f"{r.get('namespace', rns)}/{r.get('name')}" for r in refs) or "(no parentRefs)"
    node = Node(f"unattached/route/{rns}/{rname}", "route", f"HTTPRoute {rns}/{rname}", "broken",
                "attached to no Gateway", detail=[f"parentRef → Gateway {names}: not found",
                                                 "status.parents is empty"] + [r["text"] for r in _rules(route)],
                link=Link("broken", "no parent"), data={"namespace": rns, "name": rname, "parent_refs": refs})
    ref = refs[0] if refs else {}
    pns, pname = ref.get("namespace", rns), ref.get("name")
    gw = idx.gateways.get((pns, pname))
    if gw is not None:
        summary = _summary(gw)
    else:
        elsewhere = [g["metadata"]["namespace"] for g in idx.gateways.values() if g["metadata"]["name"] == pname]
        summary = {"name": pname, "namespace": pns, "found": False, "elsewhere": elsewhere}
    node.explanation = _explain(_route_evidence(idx, route, summary, node, None), idx)
    return node


def _explain_gateway(idx: _Index, gw: dict, summary: dict, node: Node, svc: dict | None, pods: list[dict]) -> None:
    if node.worst == "ok":
        return
    cls = idx.classes.get(summary["class"])
    ev = {"check": _check("gateway_programmed", f"Gateway {summary['name']} Programmed", node),
          "object": {"kind": "Gateway", "name": summary["name"], "namespace": summary["namespace"], "found": True},
          "conditions": summary["conditions"], "gateway": summary,
          "gatewayclass": {"name": summary["class"], "found": cls is not None,
                           "controller": ((cls or {}).get("spec") or {}).get("controllerName"),
                           "conditions": conditions_of(cls), "known": sorted(idx.classes)},
          "pods": [pod_summary(p) for p in pods]}
    if svc is not None:
        ev["service"] = service_summary(svc)
    node.explanation = _explain(ev, idx)


def _check(kind: str, title: str, node: Node) -> dict:
    observed = f"{node.title}: {node.word}" + (f" ({node.link.word})" if node.link and node.link.state != "ok" else "")
    return {"id": "map", "kind": kind, "title": title, "passed": False, "observed": observed,
            "error": None, "unreachable": False}


def _explain(ev: dict, idx: _Index) -> dict | None:
    """The explanation of one break, as a plain dict (rule, title, why, fix, fix_command, observed)."""
    from tutorial.engine.explain import explain_evidence

    ev.setdefault("params", {})
    ev["cluster"] = dict(idx.cluster)
    view = explain_evidence(ev)
    return {k: v for k, v in view.to_json(with_evidence=False).items() if k not in ("check", "check_title")}


def _true(cond: dict | None) -> bool:
    return bool(cond) and str(cond.get("status")) == "True"


def _false(cond: dict | None) -> bool:
    return bool(cond) and str(cond.get("status")) == "False"


def _reason(cond: dict | None) -> str:
    return (cond or {}).get("reason") or (cond or {}).get("type") or "unknown"


def _labels(selector: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))


# -- the live parts, re-exported ------------------------------------------------------

_LIVE = ("load_snapshot", "follow", "traffic_map", "cluster_info", "WATCHED")


def __getattr__(name: str):
    """Serve the live names from trafficmap_live on first use; imported lazily because it imports this module."""
    if name in _LIVE:
        from tutorial.engine import trafficmap_live

        value = getattr(trafficmap_live, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
