"""Evidence dicts as gather_evidence records them, built from the texts Istio 1.27, the kubelet
and kubectl really write (FACTS.md sections a, b, d; failure-catalog.yaml symptoms)."""

from __future__ import annotations

import copy

FQDN = "emojivoto-istio.istio-ingress.svc.cluster.local"
OK = "No errors found"


def cond(type_, status, reason, message=""):
    return {"type": type_, "status": status, "reason": reason, "message": message}


def listener(name="emojivoto", port=8080, allowed_from="Selector", selector=None, attached=1, conditions=None,
             hostname=None, index=0):
    selector = {"kubernetes.io/metadata.name": "emojivoto"} if selector is None and allowed_from == "Selector" \
        else (selector or {})
    return {"name": name, "index": index, "port": port, "protocol": "HTTP", "hostname": hostname,
            "allowed_from": allowed_from, "selector": selector, "attachedRoutes": attached, "has_status": True,
            "conditions": conditions if conditions is not None else [
                cond("Accepted", "True", "Accepted", OK), cond("Conflicted", "False", "NoConflicts", OK),
                cond("Programmed", "True", "Programmed", OK), cond("ResolvedRefs", "True", "ResolvedRefs", OK)]}


def gateway(conditions=None, listeners=None, addresses=("172.18.255.200",), cls="istio", name="emojivoto",
            ns="istio-ingress"):
    return {"name": name, "namespace": ns, "found": True, "class": cls, "annotations": {},
            "conditions": conditions if conditions is not None else [
                cond("Accepted", "True", "Accepted", "Resource accepted"),
                cond("Programmed", "True", "Programmed", f"Resource programmed, assigned to service(s) {FQDN}:8080")],
            "addresses": list(addresses), "listeners": listeners if listeners is not None else [listener()]}


def route(parents=None, name="emojivoto", ns="emojivoto", parent_ns="istio-ingress", port=None, hostnames=(),
          backend="web-svc", backend_ns=None, labels=None):
    if parents is None:
        parents = [parent([cond("Accepted", "True", "Accepted", "Route was valid"),
                           cond("ResolvedRefs", "True", "ResolvedRefs", "All references resolved")])]
    return {"name": name, "namespace": ns, "hostnames": list(hostnames),
            "parent_refs": [{"name": "emojivoto", "namespace": parent_ns, "port": port, "sectionName": None}],
            "parents": parents, "backends": [{"name": backend, "namespace": backend_ns, "port": 80, "kind": "Service"}],
            "namespace_labels": labels if labels is not None else {"kubernetes.io/metadata.name": ns}}


def parent(conditions, name="emojivoto", ns="istio-ingress"):
    return {"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": name, "namespace": ns},
            "conditions": conditions}


def pod(name="web-6d8f9c7b5d-x2x9q", ns="emojivoto", state="Running", message="", ready=False, restarts=0,
        last_reason=None, exit_code=None, image="docker.l5d.io/buoyantio/emojivoto-web:v11", container="web-svc"):
    return {"name": name, "namespace": ns, "phase": "Pending" if state != "Running" else "Running", "ready": ready,
            "state": state, "message": message, "restarts": restarts, "last_reason": last_reason,
            "exit_code": exit_code, "container": container, "image": image,
            "scheduled": {"status": "True", "reason": None, "message": None}}


def event(kind, name, reason, message, type_="Warning", ns="emojivoto"):
    return {"kind": kind, "name": name, "namespace": ns, "type": type_, "reason": reason, "message": message, "count": 1}


def check(kind, id_="c", observed="", error=None, unreachable=False, title="the check"):
    return {"id": id_, "kind": kind, "title": title, "passed": False, "observed": observed, "error": error,
            "unreachable": unreachable}


def route_check(route_obj, gw=None, **extra):
    """A failed route_accepted check on the blog's HTTPRoute, with its Gateway gathered."""
    entry = (route_obj.get("parents") or [{}])[0]
    ev = {"check": check("route_accepted", "route-accepted", "HTTPRoute emojivoto: ..."),
          "params": {"name": route_obj["name"], "namespace": route_obj["namespace"],
                     "parent": {"name": "emojivoto", "namespace": "istio-ingress"}},
          "object": {"kind": "HTTPRoute", "name": route_obj["name"], "namespace": route_obj["namespace"], "found": True},
          "parents": route_obj.get("parents"), "conditions": entry.get("conditions", []),
          "routes": [route_obj], "gateway": gw if gw is not None else gateway(), "cluster": {"flavor": "kind"}}
    ev.update(extra)
    return ev


def gateway_check(gw, kind="gateway_programmed", service=None, pods=(), routes=None, **extra):
    ev = {"check": check(kind, "gateway-programmed", f"Gateway {gw['name']}: ..."),
          "params": {"name": gw["name"], "namespace": gw["namespace"]},
          "object": {"kind": "Gateway", "name": gw["name"], "namespace": gw["namespace"], "found": gw.get("found", True)},
          "conditions": gw.get("conditions", []), "gateway": gw,
          "service": service or {"name": "emojivoto-istio", "namespace": "istio-ingress", "type": "LoadBalancer",
                                 "external": ["172.18.255.200"], "ports": [15021, 8080]},
          "pods": list(pods), "cluster": {"flavor": "kind", "context": "kind-kind"}}
    if kind == "listener_attached_routes":
        ev["params"] = {"gateway": gw["name"], "namespace": gw["namespace"], "listener": "emojivoto"}
    if routes is not None:
        ev["routes"] = routes
    ev.update(extra)
    return ev


def workload_check(pods, kind="deployment_available", ns="emojivoto", events=(), **extra):
    ev = {"check": check(kind, "deployments", "web 0/1 ready"),
          "params": {"namespace": ns, "selector": "app.kubernetes.io/part-of=emojivoto"},
          "object": {"kind": "Deployment", "name": None, "namespace": ns, "found": True},
          "pods": list(pods), "events": list(events), "cluster": {"flavor": "kind"}}
    ev.update(extra)
    return ev


def command_check(argv, output, exit_code=1, missing=None, timed_out=False):
    return {"check": check("command", "command", output.strip().splitlines()[-1] if output.strip() else ""),
            "command": {"argv": list(argv), "exit_code": exit_code, "output": output,
                        "missing_executable": missing, "timed_out": timed_out}}


def http_check(status=None, error="", url="http://172.18.255.200:8080/", gw=None, routes=None, body="", port=None,
               service=None, pods=()):
    host = url.split("/")[2].split(":")[0]
    port = port or (int(url.split("/")[2].split(":")[1]) if ":" in url.split("/")[2] else 80)
    obs = f"GET {url}: HTTP {status}" if status else f"GET {url}: no answer ({error})"
    ev = {"check": check("http_get", "app-through-gateway", obs),
          "params": {"through_gateway": {"name": "emojivoto", "namespace": "istio-ingress", "listener": "emojivoto"},
                     "path": "/", "status": 200},
          "http": {"url": url, "status": status, "error": error, "body": body, "host": host, "port": port},
          "gateway": gw if gw is not None else gateway(),
          "routes": routes if routes is not None else [route()],
          "service": {"name": "emojivoto-istio", "namespace": "istio-ingress", "type": "LoadBalancer",
                      "external": ["172.18.255.200"], "ports": [15021, 8080]},
          "pods": list(pods), "cluster": {"flavor": "kind"}}
    if service:
        ev["http"]["service"] = service
    return ev


def clone(ev):
    return copy.deepcopy(ev)
