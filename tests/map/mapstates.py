"""Hand-written cluster states of the blog (fixed names and addresses) for pure and snapshot tests."""

from __future__ import annotations

import copy

ADDRESS = "203.0.113.10"  # documentation range: never a real address, never random


def _cond(ctype: str, status: str = "True", reason: str | None = None, message: str = "") -> dict:
    return {"type": ctype, "status": status, "reason": reason or ctype, "message": message}


def _pod(name: str, ns: str, labels: dict, ready: bool = True, waiting: str | None = None) -> dict:
    status = {"phase": "Running" if ready else "Pending", "conditions": [_cond("Ready", str(ready))]}
    if waiting:
        status["containerStatuses"] = [{"name": "main", "ready": False, "restartCount": 0,
                                        "state": {"waiting": {"reason": waiting, "message": f"{waiting}: no such host"}}}]
    return {"metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "main", "image": "docker.l5d.io/buoyantio/emojivoto-web:v11"}]},
            "status": status}


def blog() -> dict:
    """The snapshot load_snapshot would read once the whole blog is done."""
    gateway = {"metadata": {"name": "emojivoto", "namespace": "istio-ingress"},
               "spec": {"gatewayClassName": "istio", "listeners": [{
                   "name": "emojivoto", "port": 8080, "protocol": "HTTP",
                   "allowedRoutes": {"namespaces": {"from": "Selector", "selector": {
                       "matchLabels": {"kubernetes.io/metadata.name": "emojivoto"}}}}}]},
               "status": {"addresses": [{"type": "IPAddress", "value": ADDRESS}],
                          "conditions": [_cond("Accepted"), _cond("Programmed")],
                          "listeners": [{"name": "emojivoto", "attachedRoutes": 1, "conditions": [
                              _cond("Accepted"), _cond("Programmed"), _cond("ResolvedRefs"),
                              _cond("Conflicted", "False", "NoConflicts")]}]}}
    route = {"metadata": {"name": "emojivoto", "namespace": "emojivoto"},
             "spec": {"parentRefs": [{"name": "emojivoto", "namespace": "istio-ingress"}],
                      "rules": [{"backendRefs": [{"name": "web-svc", "port": 80}]}]},
             "status": {"parents": [{"parentRef": {"name": "emojivoto", "namespace": "istio-ingress"},
                                     "controllerName": "istio.io/gateway-controller",
                                     "conditions": [_cond("Accepted"), _cond("ResolvedRefs")]}]}}
    gw_svc = {"metadata": {"name": "emojivoto-istio", "namespace": "istio-ingress"},
              "spec": {"type": "LoadBalancer", "selector": {"gateway.networking.k8s.io/gateway-name": "emojivoto"},
                       "ports": [{"name": "status-port", "port": 15021}, {"name": "emojivoto", "port": 8080}]},
              "status": {"loadBalancer": {"ingress": [{"ip": ADDRESS}]}}}
    web_svc = {"metadata": {"name": "web-svc", "namespace": "emojivoto"},
               "spec": {"type": "ClusterIP", "selector": {"app": "web-svc"},
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    return {"gateways": [gateway], "routes": [route], "notes": [],
            "classes": [{"metadata": {"name": "istio"}, "spec": {"controllerName": "istio.io/gateway-controller"},
                         "status": {"conditions": [_cond("Accepted")]}}],
            "services": [gw_svc, web_svc],
            "pods": [_pod("emojivoto-istio-0", "istio-ingress", {"gateway.networking.k8s.io/gateway-name": "emojivoto"}),
                     _pod("web-0", "emojivoto", {"app": "web-svc"})],
            "namespaces": [{"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}}
                           for ns in ("emojivoto", "istio-ingress")]}


def blog_not_allowed() -> dict:
    """G10: the listener lost allowedRoutes, so the route from emojivoto is not allowed."""
    snap = copy.deepcopy(blog())
    snap["gateways"][0]["spec"]["listeners"][0].pop("allowedRoutes")
    snap["gateways"][0]["status"]["listeners"][0]["attachedRoutes"] = 0
    snap["routes"][0]["status"]["parents"][0]["conditions"][0] = _cond(
        "Accepted", "False", "NotAllowedByListeners",
        'hostnames matched parent hostname "", but namespace "emojivoto" is not allowed by the parent')
    return snap
