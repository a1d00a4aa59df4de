"""The blog's Gateway API manifests (indented as the standard shapes) and small object builders."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
EMOJIVOTO_RENDERED = SHARED / "reference" / "emojivoto-example" / "rendered-offline.yaml"

GATEWAYCLASS_YAML = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: istio
spec:
  controllerName: istio.io/gateway-controller
"""

GATEWAY_YAML = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: emojivoto
  namespace: istio-ingress
spec:
  gatewayClassName: istio
  listeners:
  - protocol: HTTP
    port: 8080
    name: emojivoto
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels:
            kubernetes.io/metadata.name: emojivoto
"""

HTTPROUTE_YAML = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: emojivoto
  namespace: emojivoto
spec:
  parentRefs:
  - name: emojivoto
    namespace: istio-ingress
  rules:
  - backendRefs:
    - name: web-svc
      port: 80
"""

FQDN = "emojivoto-istio.istio-ingress.svc.cluster.local"


def gatewayclass() -> dict:
    return yaml.safe_load(GATEWAYCLASS_YAML)


def gateway(**spec_changes) -> dict:
    obj = yaml.safe_load(GATEWAY_YAML)
    obj["spec"].update(spec_changes)
    return obj


def httproute() -> dict:
    return yaml.safe_load(HTTPROUTE_YAML)


def stored(obj: dict, uid: str = "uid-1", generation: int = 1, created: str = "2026-01-01T00:00:00Z") -> dict:
    """obj as the store would hand it out (uid, generation, creationTimestamp)."""
    out = copy.deepcopy(obj)
    out["metadata"].update(uid=uid, generation=generation, creationTimestamp=created)
    return out


def namespace(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def service(ns: str, name: str, ports: list[int], svc_type: str = "ClusterIP", lb_ip: str | None = None,
            selector: dict | None = None) -> dict:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
           "spec": {"type": svc_type, "ports": [{"name": f"p{p}", "port": p} for p in ports],
                    "selector": selector or {"app": name}}}
    if lb_ip:
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": lb_ip}]}}
    return obj


def endpoints(ns: str, name: str, ready: bool = True) -> dict:
    addresses = [{"ip": "10.244.0.10"}] if ready else []
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns},
            "subsets": [{"addresses": addresses, "ports": [{"port": 8080}]}] if ready else []}


def blog_world(lb_ip: str | None = "127.0.0.1", gateway_ready: bool = True, web_ready: bool = True,
               route: dict | None = None, gw: dict | None = None, extra_services=(), grants=()):
    """A World after the blog's steps: emojivoto, istio-ingress, the Gateway's Service and the route."""
    from tutorial.sandbox.istio.model import World, key

    gw = stored(gw or gateway())
    route = stored(route or httproute(), uid="uid-2")
    services = [service("emojivoto", "web-svc", [80]),
                service("istio-ingress", "emojivoto-istio", [15021, 8080], "LoadBalancer", lb_ip),
                *extra_services]
    eps = [endpoints("emojivoto", "web-svc", web_ready),
           endpoints("istio-ingress", "emojivoto-istio", gateway_ready)]
    return World(namespaces={"emojivoto": {"kubernetes.io/metadata.name": "emojivoto"},
                             "istio-ingress": {"kubernetes.io/metadata.name": "istio-ingress"},
                             "default": {"kubernetes.io/metadata.name": "default"}},
                 classes={"istio": stored(gatewayclass())}, gateways=[gw], routes=[route],
                 services={key(s): s for s in services}, endpoints={key(e): e for e in eps},
                 grants=list(grants))


def conditions(obj_status: dict) -> dict[str, tuple[str, str, str]]:
    """type -> (status, reason, message) of a conditions list holder."""
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in obj_status.get("conditions") or []}
