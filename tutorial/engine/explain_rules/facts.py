"""Facts: the learner's real names and a few derived truths, from evidence, for rules and templates.

A rule's `facts:` matches on these, and its title/why/fix/fix_command fill `{name}` from them,
so an explanation says `emojivoto` and `istio-ingress`, not "your route" and "its namespace".
"""

from __future__ import annotations

from typing import Any

# Gateway API version each Istio minor is built against (istio/istio@<tag>:go.mod, FACTS.md section 0).
ISTIO_GATEWAY_API = {"1.22": "v1.1", "1.23": "v1.1", "1.24": "v1.2", "1.25": "v1.2", "1.26": "v1.3",
                     "1.27": "v1.3", "1.28": "v1.4", "1.29": "v1.4", "1.30": "v1.5"}
LB_FIX = {
    "kind": "On kind, run `cloud-provider-kind` in a second terminal and keep it running (install: "
            "`go install sigs.k8s.io/cloud-provider-kind@latest`); on a single-node cluster also run "
            "`kubectl label node kind-control-plane node.kubernetes.io/exclude-from-external-load-balancers-`.",
    "minikube": "On minikube, run `minikube tunnel` in a second terminal and keep it running.",
    "k3d": "On k3d, the built-in ServiceLB gives the address once a host port is free (its Traefik holds 80 and "
           "443); map the port when creating the cluster (`k3d cluster create NAME -p \"8080:8080@loadbalancer\"`) "
           "or add it with `k3d cluster edit NAME --port-add 8080:8080@loadbalancer`.",
    "docker-desktop": "On Docker Desktop, LoadBalancer Services get localhost; if yours stays pending, "
                      "another Service already holds the port.",
    "sandbox": "In the sandbox this is the `no-lb` fault: the simulated cluster plays a laptop cluster "
               "without a load balancer.",
    "other": "kind: run cloud-provider-kind; minikube: run `minikube tunnel`; k3d: map the port with "
             "`-p \"8080:8080@loadbalancer\"`; bare metal: install MetalLB.",
}


def _minor(version: str | None) -> str | None:
    parts = (version or "").lstrip("v").split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0].isdigit() else None


def _first(items, pred=lambda x: True):
    return next((x for x in items or [] if pred(x)), None)


def check_facts(ev: dict) -> dict[str, Any]:
    c, p, obj = ev.get("check") or {}, ev.get("params") or {}, ev.get("object") or {}
    return {"check_id": c.get("id"), "check_title": c.get("title"), "check_kind": c.get("kind"),
            "kind": obj.get("kind") or p.get("object_kind"), "name": obj.get("name") or p.get("name"),
            "namespace": obj.get("namespace") or p.get("namespace"),
            "kind_lower": (obj.get("kind") or p.get("object_kind") or "").lower() or None,
            "missing_crds": ", ".join(ev.get("missing") or []) or None}


def gateway_facts(ev: dict) -> dict[str, Any]:
    gw, p = ev.get("gateway") or {}, ev.get("params") or {}
    if not gw:
        return {}
    wanted = p.get("listener") or (p.get("through_gateway") or {}).get("listener")
    listener = _first(gw.get("listeners"), lambda l: wanted is None or l.get("name") == wanted) or {}
    selector = listener.get("selector") or {}
    key, value = next(iter(selector.items()), (None, None))
    svc = ev.get("service") or {}
    return {"gateway": gw.get("name"), "gateway_ns": gw.get("namespace"), "gateway_found": gw.get("found"),
            "gateway_elsewhere": (gw.get("elsewhere") or [None])[0], "gateway_class": gw.get("class"),
            "gateway_address": (gw.get("addresses") or [None])[0],
            "gateway_service": svc.get("name") or (f"{gw.get('name')}-{gw.get('class')}" if gw.get("class") else None),
            "service_type": svc.get("type"),
            "service_pending": svc.get("type") == "LoadBalancer" and not svc.get("external"),
            "listener": listener.get("name"), "listener_port": listener.get("port"),
            "listener_index": listener.get("index"), "listener_protocol": listener.get("protocol"),
            "listener_hostname": listener.get("hostname"),
            "listener_ports": ", ".join(str(l.get("port")) for l in gw.get("listeners") or []) or None,
            "allowed_from": listener.get("allowed_from"), "selector_key": key, "selector_value": value,
            "selector": ",".join(f"{k}={v}" for k, v in selector.items()) or None,
            "attached_routes": listener.get("attachedRoutes")}


def class_facts(ev: dict) -> dict[str, Any]:
    gc = ev.get("gatewayclass") or {}
    if not gc:
        return {}
    return {"class_found": gc.get("found"), "class_controller": gc.get("controller"),
            "known_classes": ", ".join(gc.get("known") or []) or None,
            "class_is_istio": gc.get("controller") == "istio.io/gateway-controller"}


def _failing_route(routes: list[dict]) -> dict:
    def bad(r):
        return not r.get("parents") or any(c.get("status") != "True" and c.get("type") != "PartiallyInvalid"
                                           for p in r["parents"] for c in p.get("conditions") or [])
    return _first(routes, bad) or _first(routes) or {}


def route_facts(ev: dict) -> dict[str, Any]:
    routes = ev.get("routes") or []
    if not routes:
        return {"routes_attached": 0} if "routes" in ev else {}
    r = _failing_route(routes)
    ref = _first(r.get("parent_refs")) or {}
    backend = _first(r.get("backends")) or {}
    labels = r.get("namespace_labels") or {}
    gw = ev.get("gateway") or {}
    sel = {k: v for l in gw.get("listeners") or [] for k, v in (l.get("selector") or {}).items()}
    return {"route": r.get("name"), "route_ns": r.get("namespace"), "routes_attached": len(routes),
            "route_hostnames": ", ".join(r.get("hostnames") or []) or None,
            "route_hostname": (r.get("hostnames") or [None])[0], "has_hostnames": bool(r.get("hostnames")),
            "parent_name": ref.get("name"), "parent_ns": ref.get("namespace") or r.get("namespace"),
            "parent_ns_given": bool(ref.get("namespace")), "parent_port": ref.get("port"),
            "parent_section": ref.get("sectionName"),
            "backend": backend.get("name"), "backend_port": backend.get("port"),
            "backend_ns": backend.get("namespace") or r.get("namespace"),
            "backend_cross_ns": bool(backend.get("namespace")) and backend.get("namespace") != r.get("namespace"),
            "route_ns_labels": ",".join(f"{k}={v}" for k, v in labels.items()) or None,
            "ns_matches_selector": bool(sel) and all(labels.get(k) == v for k, v in sel.items()),
            "route_in_gateway_ns": r.get("namespace") == gw.get("namespace")}


def pod_facts(ev: dict) -> dict[str, Any]:
    pod = _first(ev.get("pods"), lambda p: not p.get("ready"))
    if not pod:
        return {}
    name = pod.get("name") or ""
    parts = name.split("-")
    workload = "-".join(parts[:-2]) if len(parts) > 2 else name
    return {"pod": name, "pod_ns": pod.get("namespace"), "container": pod.get("container"),
            "image": pod.get("image"), "restarts": pod.get("restarts"), "last_reason": pod.get("last_reason"),
            "pod_state": pod.get("state"), "workload": workload, "exit_code": pod.get("exit_code"),
            "image_is_auto": pod.get("image") == "auto"}


def workload_facts(ev: dict) -> dict[str, Any]:
    zero = _first(ev.get("deployments"), lambda d: d.get("replicas") == 0)
    return {"scaled_down": zero.get("name"), "scaled_down_ns": zero.get("namespace")} if zero else {}


def backend_port_facts(ev: dict) -> dict[str, Any]:
    m = _first(ev.get("backend_ports"))
    if not m:
        return {}
    ports, targets = m.get("service_ports") or [], m.get("target_ports") or []
    good = ports[0] if len(ports) == 1 else None  # several ports: which one is meant is not ours to guess
    note = None
    if m.get("port") in targets and good is not None:
        note = f"port {good} is the Service port, {m.get('port')} the container's (the Service's targetPort)"
    return {"bad_route": m.get("route"), "bad_route_ns": m.get("route_ns"), "bad_rule": m.get("rule"),
            "bad_ref": m.get("ref"), "bad_backend": m.get("service"), "bad_port": m.get("port"),
            "good_port": good, "service_ports": ", ".join(str(p) for p in ports) or None, "port_note": note}


def http_facts(ev: dict) -> dict[str, Any]:
    http = ev.get("http") or {}
    if not http:
        return {}
    gw = ev.get("gateway") or {}
    ports = [l.get("port") for l in gw.get("listeners") or []]
    svc = http.get("service") or {}
    gw_svc = (ev.get("service") or {}).get("name")
    url = http.get("url") or ""
    return {"url": http.get("url"), "url_host": http.get("host"), "url_port": http.get("port"),
            "http_status": http.get("status"), "url_service": svc.get("name"), "url_service_ns": svc.get("namespace"),
            "url_is_other_service": bool(svc.get("name")) and svc.get("name") != gw_svc,
            "port_is_listener": (http.get("port") in ports) if ports else None,
            "url_path": url.split("/", 3)[3] if url.count("/") >= 3 else "",
            "is_doughnut_vote": "vote" in url and "doughnut" in url,
            "address_private": str(http.get("host") or (gw.get("addresses") or [""])[0] or "").startswith(("172.", "10.", "192.168."))}


def version_facts(ev: dict) -> dict[str, Any]:
    istio, crds = ev.get("istio") or {}, ev.get("crds") or {}
    versions = [v for v in (crds.get("bundle_versions") or {}).values() if v]
    crd_version = versions[0] if versions else None
    minor = _minor(istio.get("version"))
    expected = ISTIO_GATEWAY_API.get(minor or "")
    skew = None
    if expected and crd_version:
        have, want = _minor(crd_version), _minor(expected)
        if have and want and have != want:
            skew = "crds-newer" if tuple(map(int, have.split("."))) > tuple(map(int, want.split("."))) else "crds-older"
        else:
            skew = "ok"
    too_old_istio = bool(minor) and tuple(map(int, minor.split("."))) < (1, 22)
    downgrade = None
    if skew == "crds-newer":  # the commands for what the cluster has, when that was gathered
        from tutorial.engine.preflight_crds import advice_unread, downgrade_advice

        downgrade = (downgrade_advice(crds.get("extra") or [], bool(crds.get("safe_upgrades")))
                     if "extra" in crds else advice_unread())
    return {"crd_downgrade": downgrade, "istio_version": istio.get("version"), "istio_installed": istio.get("installed"),
            "istio_installer": istio.get("installer"),
            "istio_ready": istio.get("ready"), "crd_version": crd_version, "istio_gateway_api": expected,
            "version_skew": "istio-too-old" if too_old_istio and crd_version else skew}


def command_facts(ev: dict) -> dict[str, Any]:
    cmd = ev.get("command") or {}
    argv = cmd.get("argv") or []
    if not argv:
        return {}

    def after(flag):
        return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None

    return {"cmd": " ".join(argv), "tool": argv[0].rsplit("/", 1)[-1], "missing_executable": cmd.get("missing_executable"),
            "manifest": after("-f"), "kustomize_dir": after("-k"), "cmd_ns": after("-n") or after("--namespace"),
            "helm_release": argv[2] if len(argv) > 2 and argv[0].endswith("helm") and argv[1] in ("install", "upgrade") else None,
            "exit_code": cmd.get("exit_code"),
            "crd_downgrade": _refused_downgrade(str(cmd.get("output") or ""))}


def _refused_downgrade(output: str) -> str | None:
    """The downgrade commands when the safe-upgrades policy refused a CRD (which extra CRDs exist
    is not in a command's output, so the advice says how to list them)."""
    from tutorial.engine.preflight_crds import SAFE_UPGRADES, advice_unread

    return advice_unread() if f"Uninstall ValidatingAdmissionPolicy {SAFE_UPGRADES}" in output else None


def facts_of(ev: dict) -> dict[str, Any]:
    """Every fact the rules and templates may use; absent ones are simply missing."""
    out: dict[str, Any] = {}
    for part in (check_facts, gateway_facts, class_facts, route_facts, pod_facts, workload_facts, backend_port_facts, http_facts,
                 version_facts, command_facts):
        out.update({k: v for k, v in part(ev).items() if v is not None})
    if out.get("kind") == "Gateway":  # a Gateway check without gathering: its own names
        out.setdefault("gateway", out.get("name"))
        out.setdefault("gateway_ns", out.get("namespace"))
    if out.get("check_kind") == "listener_attached_routes":
        p = ev.get("params") or {}
        out.setdefault("gateway", p.get("gateway"))
        out.setdefault("gateway_ns", p.get("namespace"))
    cluster = ev.get("cluster") or {}
    flavor = cluster.get("flavor") or ("sandbox" if cluster.get("sandbox") else "other")
    lb_fix = LB_FIX.get(flavor, LB_FIX["other"])
    context = str(cluster.get("context") or "")
    if flavor == "k3d" and context.startswith("k3d-"):  # k3d names its contexts k3d-NAME
        lb_fix = lb_fix.replace("NAME", context[4:])
    out.update(flavor=flavor, context=cluster.get("context"), lb_fix=lb_fix)
    return {k: v for k, v in out.items() if v is not None}
