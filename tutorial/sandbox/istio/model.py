"""A read-only snapshot of what the simulated istiod looks at, plus the small helpers it needs.

The status logic is written as pure functions over a `World` (plain dicts from the store), so
it can be tested without a cluster and shared with the data plane, which routes by the same rules.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from tutorial.sandbox.dataplane.addresses import problems_for
from tutorial.sandbox.controllers.util import selector_matches as _selector_matches

GR = tuple[str, str]
GROUP = "gateway.networking.k8s.io"
GATEWAYCLASSES: GR = (GROUP, "gatewayclasses")
GATEWAYS: GR = (GROUP, "gateways")
HTTPROUTES: GR = (GROUP, "httproutes")
GRPCROUTES: GR = (GROUP, "grpcroutes")
REFERENCEGRANTS: GR = (GROUP, "referencegrants")
SECRETS: GR = ("", "secrets")
ENDPOINTSLICES: GR = ("discovery.k8s.io", "endpointslices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
CRDS: GR = ("apiextensions.k8s.io", "customresourcedefinitions")
# Core kinds are the controllers' own names for them (one place for each resource).
from tutorial.sandbox.controllers.util import (DEPLOYMENTS, ENDPOINTS, NAMESPACES, PODS,  # noqa: E402
                                               SERVICEACCOUNTS, SERVICES)

ISTIO_CONTROLLER = "istio.io/gateway-controller"
REMOTE_CONTROLLER = "istio.io/unmanaged-gateway"
ISTIO_VERSION = "1.27.1"
PROXY_IMAGE = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"
ISTIO_NAMESPACE = "istio-system"
DOMAIN = "cluster.local"
NS_NAME_LABEL = "kubernetes.io/metadata.name"
BUILTIN_CLASSES = {
    "istio": (ISTIO_CONTROLLER, "The default Istio GatewayClass"),
    "istio-remote": (REMOTE_CONTROLLER, "Remote to this cluster. Does not deploy or affect configuration."),
}
GATEWAY_CRDS = (f"gatewayclasses.{GROUP}", f"gateways.{GROUP}")


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def key(obj: dict) -> tuple[str, str]:
    m = meta(obj)
    return m.get("namespace") or "", m.get("name") or ""


@dataclass
class World:
    """Everything one reconcile (or one routed request) needs, read once from the store."""

    namespaces: dict[str, dict] = field(default_factory=dict)   # name -> labels
    classes: dict[str, dict] = field(default_factory=dict)      # name -> GatewayClass
    gateways: list[dict] = field(default_factory=list)
    routes: list[dict] = field(default_factory=list)            # HTTPRoutes
    services: dict[tuple[str, str], dict] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], dict] = field(default_factory=dict)
    grants: list[dict] = field(default_factory=list)
    pods: list[dict] = field(default_factory=list)
    secrets: dict[tuple[str, str], dict] = field(default_factory=dict)
    slices: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # (ns, service) -> EndpointSlices
    # (address, port) -> why this process cannot serve it (the sandbox's PortBank problems)
    unusable: dict[tuple[str, int], str] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store: Any, with_pods: bool = False) -> "World":
        """The store's own objects, not copies (store.view): a World is read, never changed."""
        def items(gr: GR) -> list[dict]:
            return store.view(gr)

        return cls(
            namespaces={meta(n)["name"]: dict(meta(n).get("labels") or {}) for n in items(NAMESPACES)},
            classes={meta(c)["name"]: c for c in items(GATEWAYCLASSES)},
            gateways=items(GATEWAYS), routes=items(HTTPROUTES),
            services={key(s): s for s in items(SERVICES)},
            endpoints={key(e): e for e in items(ENDPOINTS)},
            grants=items(REFERENCEGRANTS),
            pods=items(PODS) if with_pods else [],
            secrets={key(s): s for s in items(SECRETS)},
            slices=_by_service(items(ENDPOINTSLICES)),
            unusable=problems_for(store))

    def gateway(self, namespace: str, name: str) -> dict | None:
        return next((g for g in self.gateways if key(g) == (namespace, name)), None)

    def class_controller(self, class_name: str) -> str | None:
        """The controllerName behind a gatewayClassName; `istio` is built in even without its object."""
        obj = self.classes.get(class_name)
        if obj is not None:
            return (obj.get("spec") or {}).get("controllerName")
        builtin = BUILTIN_CLASSES.get(class_name)
        return builtin[0] if builtin and class_name == "istio" else None

    def ready_addresses(self, namespace: str, name: str) -> list[dict]:
        """Ready endpoint addresses of a Service: its Endpoints, else its EndpointSlices (as Istio
        reads them; a Service without a selector may have only hand-made slices)."""
        ep = self.endpoints.get((namespace, name)) or {}
        found = [a for s in ep.get("subsets") or [] for a in s.get("addresses") or []]
        if found:
            return found
        return [{"ip": ip, "targetRef": e.get("targetRef") or {}}
                for s in self.slices.get((namespace, name)) or [] for e in s.get("endpoints") or []
                if (e.get("conditions") or {}).get("ready", True) is not False for ip in e.get("addresses") or []]


def _by_service(slices: list[dict]) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for s in slices:
        svc = (meta(s).get("labels") or {}).get(SERVICE_NAME_LABEL)
        if svc:
            out.setdefault((key(s)[0], svc), []).append(s)
    return out


def istiod_ready(store: Any) -> bool:
    """True when Deployment istiod in istio-system reports a ready replica."""
    dep = store.peek(DEPLOYMENTS, ISTIO_NAMESPACE, "istiod")
    return bool(dep) and int((dep.get("status") or {}).get("readyReplicas") or 0) >= 1


def istiod_version(store: Any) -> tuple[int, ...] | None:
    """The istiod Deployment's version, from its image tag (e.g. .../pilot:1.21.2 -> (1, 21, 2))."""
    dep = store.peek(DEPLOYMENTS, ISTIO_NAMESPACE, "istiod") or {}
    containers = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for container in containers:
        tag = str(container.get("image", "")).rpartition(":")[2]
        parts = tag.split("-")[0].split(".")
        if len(parts) >= 2 and all(p.isdigit() for p in parts):
            return tuple(int(p) for p in parts)
    return None


GRPCROUTE_WATCH_ERROR = ("error\twatch error in cluster Kubernetes: failed to list *v1alpha2.GRPCRoute: the server could "
                         "not find the requested resource (get grpcroutes.gateway.networking.k8s.io)")


def grpcroute_watch_error(store: Any) -> str | None:
    """Istio <= 1.21 reads GRPCRoute at v1alpha2, which Gateway API v1.2+ CRDs no longer serve
    (failure catalog C05): its Gateway API informers never sync, so it writes no Gateway status."""
    version = istiod_version(store)
    if version is None or version >= (1, 22):
        return None
    crd = store.peek(CRDS, None, "grpcroutes.gateway.networking.k8s.io")
    if crd is None:
        return None
    served = {v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")}
    return None if "v1alpha2" in served else GRPCROUTE_WATCH_ERROR


def gateway_crds_present(store: Any) -> bool:
    return all(store.peek(CRDS, None, name) is not None for name in GATEWAY_CRDS)


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_conditions(existing: list[dict] | None, wanted: list[dict], generation: int) -> list[dict]:
    """Merge wanted conditions into existing ones like meta.SetStatusCondition.

    Order and other types are kept; lastTransitionTime moves only when the status changes.
    """
    out = [dict(c) for c in existing or []]
    for want in wanted:
        cond = {"type": want["type"], "status": want["status"], "reason": want["reason"],
                "message": want["message"], "observedGeneration": generation}
        old = next((c for c in out if c.get("type") == cond["type"]), None)
        if old is None:
            out.append({**cond, "lastTransitionTime": now_iso()})
            continue
        stamp = old.get("lastTransitionTime") if old.get("status") == cond["status"] else now_iso()
        old.clear()
        old.update({**cond, "lastTransitionTime": stamp or now_iso()})
    return out


def cond(type_: str, status: bool | str, reason: str, message: str) -> dict:
    if isinstance(status, bool):
        status = "True" if status else "False"
    return {"type": type_, "status": status, "reason": reason, "message": message}


def strip_times(value: Any) -> Any:
    """A copy without lastTransitionTime, to compare statuses for real changes."""
    if isinstance(value, dict):
        return {k: strip_times(v) for k, v in value.items() if k != "lastTransitionTime"}
    if isinstance(value, list):
        return [strip_times(v) for v in value]
    return value


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector against labels; here (Gateway API) an empty selector selects everything."""
    return _selector_matches(selector, labels, empty_selects_all=True)


def namespace_labels(world: World, name: str) -> dict:
    """Labels of a namespace with kubernetes.io/metadata.name filled in, as Istio does."""
    labels = dict(world.namespaces.get(name) or {})
    labels.setdefault(NS_NAME_LABEL, name)
    return labels


def hosts_match(a: str, b: str) -> bool:
    """Istio's bidirectional wildcard hostname match (`*`, `*.example.com`, exact)."""
    a, b = a.lower(), b.lower()
    if a == "*" or b == "*":
        return True
    if a.startswith("*.") and b.startswith("*."):
        return a.endswith(b[1:]) or b.endswith(a[1:])
    if a.startswith("*."):
        return b.endswith(a[1:])
    if b.startswith("*."):
        return a.endswith(b[1:])
    return a == b


def human_join(items: list[str]) -> str:
    """"a", "a and b", "a, b, and c" (Istio's humanReadableJoin)."""
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]
