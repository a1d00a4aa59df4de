"""Gather the evidence around a failed check: the objects it judged and everything next to them.

The result is a plain JSON-able dict (the format explain.py reads, and tests record): the
Gateway with its listeners, class and Service; the routes and their parent statuses; the pods
behind a workload with waiting/terminated reasons; recent Events; CRD and Istio versions; the
HTTP answer. Gathering is best effort: what the cluster refuses to tell is noted, never raised.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

from tutorial.cluster.client import ClusterError
from tutorial.engine.explain_rules.summaries import (cluster_flavor, conds_of, match_labels, pod_ok, refers_to,
                                                     gateway_summary, pod_summary, route_summary, service_summary)

GW = "gateway.networking.k8s.io/v1"
GW_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
BUNDLE_ANNOTATION = "gateway.networking.k8s.io/bundle-version"
GATEWAY_CRDS = ("gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
                "gatewayclasses.gateway.networking.k8s.io")
MAX_EVENTS = 8


def _newer_than_pinned(version: str | None) -> bool:
    from tutorial.engine.preflight import TUTORIAL_GATEWAY_API, version_tuple

    return (version_tuple(version) or (0,)) > version_tuple(TUTORIAL_GATEWAY_API)


def base_evidence(result, params: dict | None = None) -> dict[str, Any]:
    """What the check itself recorded, in the evidence format (no cluster calls)."""
    ev = dict(result.evidence or {})
    out: dict[str, Any] = {
        "check": {"id": result.check_id, "kind": result.kind, "title": result.title, "passed": result.passed,
                  "observed": result.observed, "error": result.error, "unreachable": result.unreachable},
        "params": dict(params or {}),
    }
    ref = ev.get("ref") or {}
    if ref:
        objects = ev.get("objects") or []
        out["object"] = {"kind": ref.get("kind"), "name": ref.get("name"), "namespace": ref.get("namespace"),
                         "found": bool(objects)}
    for key in ("conditions", "parents", "listeners", "missing", "backend_ports"):
        if key in ev:
            out[key] = ev[key]
    if result.kind == "http_get":
        out["http"] = http_facts(ev)
    if result.kind == "command_succeeds":
        out["command"] = {"argv": list((params or {}).get("run") or []), "exit_code": ev.get("exit_code"),
                          "output": ev.get("output", "")}
    if result.kind in ("deployment_available", "pods_ready"):
        out["pods"] = [pod_summary(p) for p in ev.get("objects") or [] if p.get("kind", "Pod") == "Pod"
                       and "containers" in (p.get("spec") or {})]
    return out


def http_facts(ev: dict) -> dict:
    url = ev.get("url")
    parts = urlsplit(url) if url else None
    port = None
    if parts is not None:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    return {"url": url, "status": ev.get("http_status"), "error": ev.get("error", ""),
            "body": (ev.get("body") or "")[:500], "host": parts.hostname if parts else None, "port": port}


def command_record(command_result) -> dict[str, Any]:
    """A failed command as plain JSON (what progress keeps, and what explanations read)."""
    return {"argv": [str(a) for a in command_result.argv], "exit_code": command_result.exit_code,
            "output": ((command_result.stderr or "") + "\n" + (command_result.stdout or "")[-2000:])[-6000:],
            "observed": _tail(command_result.stderr or command_result.stdout),
            "missing_executable": command_result.missing_executable or None,  # the program's name
            "timed_out": bool(command_result.timed_out), "explanation": command_result.explanation or ""}


def command_evidence(command) -> dict[str, Any]:
    """Evidence for a step command that failed: a runner CommandResult, or its command_record
    (kept in progress), so a stored failure is explained exactly like a fresh one."""
    rec = command if isinstance(command, dict) else command_record(command)
    argv = [str(a) for a in rec.get("argv") or []]
    return {"check": {"id": "command", "kind": "command", "title": " ".join(argv),
                      "passed": False, "observed": str(rec.get("observed") or ""),
                      "error": None, "unreachable": False},
            "command": {"argv": argv, "exit_code": rec.get("exit_code"), "output": str(rec.get("output") or ""),
                        "missing_executable": rec.get("missing_executable") or None,
                        "timed_out": bool(rec.get("timed_out")), "explanation": rec.get("explanation") or ""}}


def _tail(text: str, lines: int = 3) -> str:
    return " / ".join((text or "").strip().splitlines()[-lines:])


# -- gathering ------------------------------------------------------------------------

def gather_evidence(engine, check_result, params: dict | None = None) -> dict[str, Any]:
    """base_evidence plus what surrounds the failure, read from the engine's cluster."""
    params = params or params_from_ref(check_result)
    out = base_evidence(check_result, params)
    out["cluster"] = {"context": engine.target.context, "sandbox": bool(engine.target.sandbox)}
    if check_result.unreachable:
        return out
    g = Gatherer(engine.client, out)
    g.safe(lambda: GATHERERS.get(check_result.kind, lambda g, p: None)(g, params or {}))
    g.safe(lambda: g.backend_ports(check_result))
    g.safe(g.flavor)
    return out


def params_from_ref(result) -> dict:
    """Check parameters rebuilt from what the check recorded, for callers that lack the step."""
    ref = (result.evidence or {}).get("ref") or {}
    params = {"namespace": ref.get("namespace"), "name": ref.get("name"), "object_kind": ref.get("kind")}
    if result.kind == "listener_attached_routes":
        params["gateway"] = ref.get("name")
    return {k: v for k, v in params.items() if v is not None}


class Gatherer:
    """Reads around one failure into `out`; every read is best effort."""

    def __init__(self, client, out: dict):
        self.client, self.out = client, out

    def safe(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (ClusterError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            self.out.setdefault("gather_errors", []).append(f"{type(exc).__name__}: {exc}")
            return None

    def get(self, api_version: str, kind: str, ns: str | None, name: str) -> dict | None:
        return self.client.get(self.client.resource(api_version, kind), ns, name)

    def list(self, api_version: str, kind: str, ns: str | None = None, **selectors) -> list[dict]:
        return self.client.list(self.client.resource(api_version, kind), ns, **selectors)[0]

    # -- objects ----------------------------------------------------------------------
    def gateway(self, ns: str, name: str, *, routes: bool = False) -> None:
        gw = self.get(GW, "Gateway", ns, name)
        if gw is None:
            elsewhere = [g["metadata"].get("namespace") for g in self.list(GW, "Gateway")
                         if g["metadata"]["name"] == name]
            self.out["gateway"] = {"name": name, "namespace": ns, "found": False, "elsewhere": elsewhere}
            return
        summary = gateway_summary(gw)
        self.out["gateway"] = summary
        self.safe(lambda: self.gateway_class(summary["class"]))
        self.safe(lambda: self.gateway_service(gw, summary))
        self.safe(lambda: self.pods(ns, f"{GW_NAME_LABEL}={name}"))
        self.safe(lambda: self.events(ns, name, "Gateway"))
        self.safe(self.istio)
        self.safe(self.crd_versions)
        if routes:
            self.safe(lambda: self.attached_routes(ns, name))

    def gateway_class(self, name: str) -> None:
        gc = self.get(GW, "GatewayClass", None, name)
        self.out["gatewayclass"] = {"name": name, "found": gc is not None,
                                    "controller": ((gc or {}).get("spec") or {}).get("controllerName"),
                                    "conditions": conds_of(gc)}
        if gc is None:
            self.out["gatewayclass"]["known"] = [c["metadata"]["name"] for c in self.list(GW, "GatewayClass")]

    def gateway_service(self, gw: dict, summary: dict) -> None:
        name = f"{summary['name']}-{summary['class']}"
        override = (gw["metadata"].get("annotations") or {}).get("gateway.istio.io/name-override")
        svc = self.get("v1", "Service", summary["namespace"], override or name)
        if svc is not None:
            self.out["service"] = service_summary(svc)

    def attached_routes(self, ns: str, name: str) -> None:
        routes = [r for r in self.list(GW, "HTTPRoute") if refers_to(r, ns, name)]
        self.out["routes"] = [self.route_summary(r) for r in routes]

    def route(self, ns: str, name: str) -> None:
        route = self.get(GW, "HTTPRoute", ns, name)
        if route is None:
            self.out["route_missing"] = {"name": name, "namespace": ns}
            return
        self.out["routes"] = [self.route_summary(route)]
        self.safe(lambda: self.events(ns, name, "HTTPRoute"))

    def route_summary(self, route: dict) -> dict:
        summary = route_summary(route)
        ns_obj = self.safe(lambda: self.get("v1", "Namespace", None, summary["namespace"]))
        summary["namespace_labels"] = ((ns_obj or {}).get("metadata") or {}).get("labels") or {}
        return summary

    def pods(self, ns: str, selector: str | None) -> None:
        pods = self.list("v1", "Pod", ns, label_selector=selector)
        found = self.out.setdefault("pods", [])
        known = {(p["namespace"], p["name"]) for p in found}
        for pod in pods[:10]:
            if (ns, pod["metadata"]["name"]) not in known:
                found.append(pod_summary(pod))
        for pod in pods[:3]:
            if not pod_ok(pod):
                self.safe(lambda pod=pod: self.events(ns, pod["metadata"]["name"], "Pod"))

    def events(self, ns: str | None, name: str, kind: str | None = None) -> None:
        selector = f"involvedObject.name={name}" + (f",involvedObject.kind={kind}" if kind else "")
        events = self.list("v1", "Event", ns, field_selector=selector)
        events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
        found = self.out.setdefault("events", [])
        for e in events[:MAX_EVENTS]:
            inv = e.get("involvedObject") or {}
            found.append({"kind": inv.get("kind"), "name": inv.get("name"), "namespace": inv.get("namespace"),
                          "type": e.get("type"), "reason": e.get("reason"), "message": e.get("message", ""),
                          "count": e.get("count", 1)})

    def istio(self) -> None:
        dep = self.get("apps/v1", "Deployment", "istio-system", "istiod")
        if dep is None:
            self.out["istio"] = {"installed": False}
            return
        image = ((dep["spec"]["template"]["spec"].get("containers") or [{}])[0]).get("image", "")
        st = dep.get("status") or {}
        labels = dep["metadata"].get("labels") or {}
        installer = ("helm" if labels.get("app.kubernetes.io/managed-by") == "Helm" else
                     "istioctl" if labels.get("operator.istio.io/component") else None)
        self.out["istio"] = {"installed": True, "image": image, "version": image.rpartition(":")[2],
                             "ready": st.get("readyReplicas", 0) >= (dep["spec"].get("replicas") or 1),
                             "installer": installer}

    def crd_versions(self) -> None:
        versions = {}
        for name in GATEWAY_CRDS:
            crd = self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, name)
            if crd is not None:
                versions[name] = (crd["metadata"].get("annotations") or {}).get(BUNDLE_ANNOTATION)
        self.out.setdefault("crds", {})["bundle_versions"] = versions
        if any(_newer_than_pinned(v) for v in versions.values()):
            self.safe(self.newer_bundle)

    def newer_bundle(self) -> None:
        """What a bundle newer than v1.3.0 left that a downgrade must remove (see preflight_crds)."""
        from tutorial.engine.preflight_crds import read_newer_bundle

        extra, policy = read_newer_bundle(self.client)
        self.out["crds"].update(extra=extra, safe_upgrades=policy)

    def flavor(self) -> None:
        cluster = self.out.setdefault("cluster", {})
        nodes = [n["metadata"]["name"] for n in self.list("v1", "Node")]
        cluster["nodes"] = nodes[:5]
        cluster["flavor"] = cluster_flavor(cluster.get("context") or "", nodes, cluster.get("sandbox", False))

    def namespace(self, ns: str) -> None:
        self.out["namespace"] = {"name": ns, "found": self.get("v1", "Namespace", None, ns) is not None}

    def backend(self, ns: str, name: str) -> None:
        svc = self.get("v1", "Service", ns, name)
        backends = self.out.setdefault("backends", [])
        backends.append({"name": name, "namespace": ns, "found": svc is not None})
        selector = match_labels({"matchLabels": ((svc or {}).get("spec") or {}).get("selector") or {}})
        if svc is not None and selector:
            self.pods(ns, selector)

    def backend_ports(self, check_result) -> None:
        """The route check's own port comparison, kept (base_evidence copies it when present)."""
        found = (check_result.evidence or {}).get("backend_ports")
        if found:
            self.out["backend_ports"] = found

    def url_service(self) -> None:
        """Which Service owns the URL's address (to spot the wrong Service's address); when several
        share it (one node IP), the one that also has the URL's port."""
        http = self.out.get("http") or {}
        if not http.get("host"):
            return
        owners = [service_summary(svc) for svc in self.list("v1", "Service")
                  if http["host"] in service_summary(svc)["external"]
                  or http["host"] == (svc.get("spec") or {}).get("clusterIP")]
        if owners:
            http["service"] = next((o for o in owners if http.get("port") in o["ports"]), owners[0])


# -- per check kind -------------------------------------------------------------------

def _g_condition(g: Gatherer, p: dict) -> None:
    kind, ns, name = p.get("object_kind"), p.get("namespace"), p.get("name")
    if kind == "Gateway":
        g.gateway(ns, name, routes=True)
    elif kind == "HTTPRoute":
        _g_route(g, {"name": name, "namespace": ns})
    elif kind == "GatewayClass":
        g.gateway_class(name)
        g.safe(g.istio)
        g.safe(g.crd_versions)
    else:
        g.safe(lambda: g.events(ns, name, kind))


def _g_route(g: Gatherer, p: dict) -> None:
    g.route(p["namespace"], p["name"])
    parent = p.get("parent") or next(iter((g.out.get("routes") or [{}])[0].get("parent_refs") or []), None)
    if parent:
        g.safe(lambda: g.gateway(parent.get("namespace") or p["namespace"], parent["name"]))


def _g_workload(g: Gatherer, p: dict) -> None:
    """The pods behind the Deployment(s) the check judged; for pods_ready, the pods it selected."""
    ns = p["namespace"]
    if p.get("name"):
        dep = g.get("apps/v1", "Deployment", ns, p["name"])
        g.safe(lambda: g.events(ns, p["name"], "Deployment"))
        if dep is None:
            g.out["object"] = {"kind": "Deployment", "name": p["name"], "namespace": ns, "found": False}
            g.safe(lambda: g.namespace(ns))
            return
        deployments = [dep]
    elif g.out["check"]["kind"] == "deployment_available":
        deployments = g.list("apps/v1", "Deployment", ns, label_selector=p.get("selector"))
        if not deployments:
            g.safe(lambda: g.namespace(ns))
    else:
        deployments = []
        g.pods(ns, p.get("selector"))
    g.out["deployments"] = [{"name": d["metadata"]["name"], "namespace": ns,
                             "replicas": (d.get("spec") or {}).get("replicas", 1),
                             "ready": (d.get("status") or {}).get("readyReplicas", 0)} for d in deployments[:10]]
    for dep in [d for d in deployments if not _deployment_done(d)][:4]:
        g.safe(lambda d=dep: g.pods(ns, match_labels((d.get("spec") or {}).get("selector"))))
    if ns == "istio-system":
        g.safe(g.crd_versions)
        g.safe(g.istio)


def _deployment_done(dep: dict) -> bool:
    want = (dep.get("spec") or {}).get("replicas", 1)
    st = dep.get("status") or {}
    return want >= 1 and st.get("readyReplicas", 0) >= want and st.get("updatedReplicas", 0) >= want


def _g_http(g: Gatherer, p: dict) -> None:
    through = p.get("through_gateway")
    if through:
        g.gateway(through["namespace"], through["name"], routes=True)
        for route in g.out.get("routes") or []:
            for backend in route.get("backends") or []:
                g.safe(lambda b=backend, r=route: g.backend(b.get("namespace") or r["namespace"], b["name"]))
    g.safe(g.url_service)


def _g_crds(g: Gatherer, p: dict) -> None:
    g.crd_versions()
    g.safe(g.istio)


GATHERERS: dict[str, Callable[[Gatherer, dict], None]] = {
    "condition": _g_condition,
    "resource_exists": _g_condition,
    "gateway_programmed": lambda g, p: g.gateway(p["namespace"], p["name"], routes=True),
    "listener_attached_routes": lambda g, p: g.gateway(p["namespace"], p["gateway"], routes=True),
    "route_accepted": _g_route,
    "deployment_available": _g_workload,
    "pods_ready": _g_workload,
    "http_get": _g_http,
    "crd_established": _g_crds,
    "namespace_exists": lambda g, p: None,
}
