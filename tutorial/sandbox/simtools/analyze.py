"""`istioctl analyze` findings for the sandbox, computed with the same Gateway API rules as istiod.

Codes IST0101 (ReferencedResourceNotFound) and IST0147 (ImageAutoWithoutInjectionError) are
Istio's own messages; SIM0001/SIM0002 are sandbox-only hints (Istio's real analyzers do not read
Gateway API status), named so nobody mistakes them for Istio message codes.
"""

from __future__ import annotations

from tutorial.sandbox.istio import binding
from tutorial.sandbox.istio.model import World, key, meta
from tutorial.sandbox.simtools.kube import Kube, KubeError

GW = "gateway.networking.k8s.io/v1"


def _items(kube: Kube, path: str) -> list[dict]:
    try:
        return (kube.request("GET", path) or {}).get("items") or []
    except KubeError as exc:
        if exc.code == 404:
            return []
        raise


def load_world(kube: Kube) -> tuple[World, list[dict], list[dict]]:
    """The cluster as a World, plus Deployments and Namespaces for the injection check."""
    namespaces = _items(kube, "/api/v1/namespaces")
    world = World(
        namespaces={meta(n)["name"]: dict(meta(n).get("labels") or {}) for n in namespaces},
        classes={meta(c)["name"]: c for c in _items(kube, f"/apis/{GW}/gatewayclasses")},
        gateways=_items(kube, f"/apis/{GW}/gateways"), routes=_items(kube, f"/apis/{GW}/httproutes"),
        services={key(s): s for s in _items(kube, "/api/v1/services")},
        endpoints={key(e): e for e in _items(kube, "/api/v1/endpoints")},
        grants=_items(kube, "/apis/gateway.networking.k8s.io/v1beta1/referencegrants"))
    return world, _items(kube, "/apis/apps/v1/deployments"), namespaces


def _route_findings(world: World, route: dict) -> list[tuple[str, str, str]]:
    ident = f"(HTTPRoute {key(route)[0]}/{key(route)[1]})"
    out = []
    for ref in (route.get("spec") or {}).get("parentRefs") or []:
        ns = ref.get("namespace") or key(route)[0]
        if (ref.get("kind") or "Gateway") == "Gateway" and world.gateway(ns, ref.get("name", "")) is None:
            out.append(("Error", "IST0101", f'{ident} Referenced gateway not found: "{ns}/{ref.get("name")}"'))
    for result in binding.bind_route(world, route):
        if result.denied:
            out.append(("Warning", "SIM0001", f"{ident} Route not accepted by Gateway "
                        f"{result.gateway_key[0]}/{result.gateway_key[1]}: {result.denied[0]}: {result.denied[1]}"))
    problem = binding.backend_error(world, route)
    if problem and problem[0] == "BackendNotFound":
        name = problem[1][len("backend("):-len(") not found")]
        out.append(("Error", "IST0101", f'{ident} Referenced service not found: "{name}"'))
    elif problem:
        out.append(("Warning", "SIM0001", f"{ident} Backend reference not resolved: {problem[0]}: {problem[1]}"))
    return out


def _gateway_findings(world: World, gw: dict) -> list[tuple[str, str, str]]:
    ident = f"(Gateway {key(gw)[0]}/{key(gw)[1]})"
    class_name = (gw.get("spec") or {}).get("gatewayClassName", "")
    if world.class_controller(class_name) is None:
        return [("Error", "IST0101", f'{ident} Referenced gatewayclass not found: "{class_name}"')]
    if not binding.istio_manages(world, gw):
        return []
    programmed = next((c for c in (gw.get("status") or {}).get("conditions") or []
                       if c.get("type") == "Programmed"), None)
    if programmed and programmed.get("status") != "True":
        return [("Warning", "SIM0002", f"{ident} Gateway not programmed: {programmed.get('reason')}: "
                 f"{programmed.get('message')}")]
    return []


def _auto_image_findings(deployments: list[dict], namespaces: list[dict]) -> list[tuple[str, str, str]]:
    disabled = {meta(n)["name"] for n in namespaces
                if (meta(n).get("labels") or {}).get("istio-injection") == "disabled"}
    out = []
    for dep in deployments:
        containers = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
        if any(c.get("image") == "auto" for c in containers) and key(dep)[0] in disabled:
            out.append(("Error", "IST0147", f"(Deployment {key(dep)[0]}/{key(dep)[1]}) Deployment "
                        f"{key(dep)[1]} contains `image: auto` but does not match any Istio injection "
                        "webhook selectors."))
    return out


def findings(kube: Kube, namespace: str | None) -> list[tuple[str, str, str]]:
    """(level, code, text) for every object in scope (namespace None: all namespaces)."""
    world, deployments, namespaces = load_world(kube)

    def in_scope(obj: dict) -> bool:
        return namespace is None or key(obj)[0] == namespace

    out = []
    for gw in filter(in_scope, world.gateways):
        out.extend(_gateway_findings(world, gw))
    for route in filter(in_scope, world.routes):
        out.extend(_route_findings(world, route))
    out.extend(_auto_image_findings([d for d in deployments if in_scope(d)], namespaces))
    return out
