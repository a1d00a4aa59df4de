"""The recap at the end: what the learner built, who owns each piece and why it sits where it does.

The Gateway API splits what an Ingress was into objects for different roles (its "role model"):
the infrastructure provider's GatewayClass, the cluster operator's Gateway, the app team's
HTTPRoute. `build` reads the cluster once (blocking: call it from a worker) and returns plain
data the TUI draws: the objects with whether they exist now, the traffic map, the commands the
lessons used, and what to try next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GATEWAY_API = "gateway.networking.k8s.io/v1"

# (api version, kind, namespace, name, who owns it, why it sits there)
ROLE_MODEL: tuple[tuple[str, str, str | None, str, str, str], ...] = (
    (GATEWAY_API, "GatewayClass", None, "istio", "infrastructure provider (istiod created it)",
     "cluster-wide: it names the controller (istio.io/gateway-controller) every istio Gateway uses"),
    ("apps/v1", "Deployment", "istio-system", "istiod", "platform team",
     "Istio's control plane, apart from every app: it watches Gateways and routes in all namespaces"),
    (GATEWAY_API, "Gateway", "istio-ingress", "emojivoto", "cluster operator",
     "the edge of the cluster, owned by whoever runs it; allowedRoutes decides which namespaces may attach"),
    ("apps/v1", "Deployment", "istio-ingress", "emojivoto-istio", "istiod (automated, for the Gateway)",
     "the proxy istiod built for the Gateway, next to it; deleted with it"),
    ("v1", "Service", "istio-ingress", "emojivoto-istio", "istiod (automated, for the Gateway)",
     "type LoadBalancer: its external address becomes the Gateway's address"),
    (GATEWAY_API, "HTTPRoute", "emojivoto", "emojivoto", "app team",
     "next to the app it routes to; it asks to attach to the operator's Gateway"),
    ("v1", "Service", "emojivoto", "web-svc", "app team",
     "the route's backend: port 80, sent on to the web pods' 8080"),
    ("apps/v1", "Deployment", "emojivoto", "web", "app team", "the app itself (with emoji, voting, vote-bot)"),
)

NEXT_STEPS = (
    "Add a second listener or a hostname to the Gateway, and a route that matches a path prefix.",
    "Split traffic between two backends with weights on backendRefs (a canary).",
    "Allow routes from another namespace by widening allowedRoutes, then attach one there.",
    "Serve HTTPS: a listener with protocol HTTPS and a certificate Secret (a ReferenceGrant when it lives elsewhere).",
    "Try the same HTTPRoute with another implementation (Envoy Gateway, Cilium): only the GatewayClass changes.",
    "Break the lab on purpose and repair it: `gateway-tutorial explain` and the traffic map say what is wrong.",
)


@dataclass
class RecapObject:
    kind: str
    namespace: str | None
    name: str
    owner: str
    why: str
    present: bool | None = None  # None: the cluster could not be asked

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else f"{self.name} (cluster-wide)"


@dataclass
class Recap:
    objects: list[RecapObject]
    commands: list[str]
    next_steps: list[str]
    done: int
    total: int
    tmap: object | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)


def commands_used(engine) -> list[str]:
    """Each command the walked steps show, once, first line only (a heredoc keeps its `<<'EOF'`)."""
    seen: list[str] = []
    for _, step in engine.steps("all"):
        for prepared in engine.prepare(step):
            line = prepared.display.splitlines()[0]
            if line not in seen:
                seen.append(line)
    return seen


def build(engine) -> Recap:
    """Read the cluster once: the role-model objects, the traffic map; plus progress and commands."""
    from tutorial.cluster.client import ClusterError

    states = {t: r.state for t, r in engine.progress.all().items()}
    walked = [s.target for _, s in engine.steps("all")]
    done = sum(1 for t in walked if states.get(t) in ("done", "skipped"))
    out = Recap([], commands_used(engine), list(NEXT_STEPS), done, len(walked))
    try:
        for api, kind, ns, name, owner, why in ROLE_MODEL:
            found = engine.client.get(engine.client.resource(api, kind), ns, name)
            out.objects.append(RecapObject(kind, ns, name, owner, why, found is not None))
        from tutorial.engine.trafficmap_live import traffic_map

        out.tmap = traffic_map(engine)
    except ClusterError as exc:
        out.problem = f"The cluster did not answer ({exc}); the objects below are what the lessons build."
        out.objects = [RecapObject(k, ns, n, o, w) for _, k, ns, n, o, w in ROLE_MODEL]
    return out
