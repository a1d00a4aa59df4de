"""The route_backend_ports check: every Service backendRef of a route names a port the Service has.

Istio accepts a route whose backendRef port is the pod's port (8080) instead of the Service's (80)
and even reports ResolvedRefs=True, so the route's own status never says what is wrong; requests
through the Gateway just fail. This check compares the ports itself. A mismatch is settled: only
an edit of the route (or the Service) changes it.
"""

from __future__ import annotations

from tutorial.engine.checks import GATEWAY_API, _wait, check


def _service_ports(svc: dict) -> list[dict]:
    return [p for p in ((svc.get("spec") or {}).get("ports") or []) if isinstance(p, dict)]


def backend_port_mismatches(client, route: dict) -> list[dict]:
    """One entry per Service backendRef whose port the Service does not expose (missing Services
    are left to route_accepted's BackendNotFound)."""
    svc_ref = client.resource("v1", "Service")
    route_ns = route["metadata"].get("namespace")
    out = []
    for i, rule in enumerate((route.get("spec") or {}).get("rules") or []):
        for j, ref in enumerate((rule or {}).get("backendRefs") or []):
            if ref.get("kind", "Service") != "Service" or ref.get("group", "") not in ("", "core"):
                continue
            ns = ref.get("namespace") or route_ns
            svc = client.get(svc_ref, ns, ref.get("name"))
            if svc is None:
                continue
            ports = _service_ports(svc)
            if ref.get("port") in [p.get("port") for p in ports]:
                continue
            out.append({"route": route["metadata"].get("name"), "route_ns": route_ns, "rule": i, "ref": j,
                        "service": ref.get("name"), "namespace": ns, "port": ref.get("port"),
                        "service_ports": [p.get("port") for p in ports],
                        "target_ports": [p.get("targetPort", p.get("port")) for p in ports]})
    return out


def describe(m: dict) -> str:
    pairs = ", ".join(f"{p} → targetPort {t}" for p, t in zip(m["service_ports"], m["target_ports"]))
    return (f"HTTPRoute {m['route']}: backendRef {m['service']} port {m['port']} is not a port of Service "
            f"{m['service']} (its ports: {pairs or 'none'})")


@check("route_backend_ports")
def _route_backend_ports(ctx, p, timeout):
    ref = ctx.client.resource(GATEWAY_API, p.get("route_kind", "HTTPRoute"))
    seen: dict = {"mismatches": []}

    def ok(items):
        if not items:
            return False
        seen["mismatches"] = found = backend_port_mismatches(ctx.client, items[0])
        if found and ctx.watch is not None:
            ctx.watch.settle(describe(found[0]))
        return not found

    outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, name=p["name"])
    if not outcome.items:
        return False, f"HTTPRoute {p['name']} not found in namespace {p['namespace']}", ev
    ev["backend_ports"] = seen["mismatches"]
    if seen["mismatches"]:
        return False, "; ".join(describe(m) for m in seen["mismatches"]), ev
    return outcome.passed, f"HTTPRoute {p['name']}: every backendRef names a port of its Service", ev
