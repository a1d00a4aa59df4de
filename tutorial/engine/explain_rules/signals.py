"""Signals: evidence (evidence.py's dict) cut into what rules match, one per condition, pod state,
Warning event, command output or HTTP answer, grouped in tiers closest to the failure first.

Every signal has `source` and a `quote` (a line for the learner, quoted from the cluster), plus
whichever of object_kind, name, namespace, type, status, reason, message, text, state,
http_status, exit_code apply. Conditions get `state` "ok" or "problem" whatever their polarity.
"""

from __future__ import annotations

# Conditions whose good state is False ("no conflicts"), the rest are good when True.
NEGATIVE_POLARITY = {"Conflicted", "OverlappingTLSConfig", "PartiallyInvalid"}


def _cond_signals(conds, source: str, kind: str, ns, name, where: str) -> list[dict]:
    """One signal per condition; `state` is "ok" or "problem" whatever the polarity."""
    out = []
    for c in conds or []:
        good = (str(c.get("status")) == "True") != (c.get("type") in NEGATIVE_POLARITY)
        quote = f"{where}: {c.get('type')}={c.get('status')}"
        quote += f" ({c.get('reason')})" if c.get("reason") else ""
        quote += f": {c.get('message')}" if c.get("message") else ""
        out.append({"source": source, "object_kind": kind, "namespace": ns, "name": name, "type": c.get("type"),
                    "status": str(c.get("status")), "reason": c.get("reason"), "message": c.get("message") or "",
                    "state": "ok" if good else "problem", "quote": quote})
    return out


def _where(kind: str, ns, name) -> str:
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def gateway_signals(ev: dict) -> list[dict]:
    gw = ev.get("gateway")
    if not gw:
        return []
    where = _where("Gateway", gw.get("namespace"), gw.get("name"))
    if not gw.get("found"):
        return [{"source": "gateway", "state": "not-found", "object_kind": "Gateway", "quote": f"{where} not found"}]
    return _cond_signals(gw.get("conditions"), "gateway", "Gateway", gw["namespace"], gw["name"], where)


def listener_signals(ev: dict) -> list[dict]:
    gw = ev.get("gateway") or {}
    out = []
    for l in gw.get("listeners") or []:
        where = f"Gateway {gw.get('namespace')}/{gw.get('name')} listener {l.get('name')}"
        out += _cond_signals(l.get("conditions"), "listener", "Gateway", gw.get("namespace"), gw.get("name"), where)
    for l in ev.get("listeners") or []:  # recorded by the check itself (no gathering)
        out += _cond_signals(l.get("conditions"), "listener", "Gateway", None, None, f"listener {l.get('name')}")
    return out


def class_signals(ev: dict) -> list[dict]:
    gc = ev.get("gatewayclass")
    if not gc:
        return []
    where = _where("GatewayClass", None, gc.get("name"))
    if not gc.get("found"):
        return [{"source": "gatewayclass", "state": "not-found", "quote": f"{where} not found"}]
    return _cond_signals(gc.get("conditions"), "gatewayclass", "GatewayClass", None, gc.get("name"), where)


def route_signals(ev: dict) -> list[dict]:
    out = []
    if ev.get("route_missing"):
        r = ev["route_missing"]
        out.append({"source": "route", "state": "not-found", "object_kind": "HTTPRoute",
                    "quote": f"{_where('HTTPRoute', r.get('namespace'), r.get('name'))} not found"})
    for r in ev.get("routes") or []:
        where = _where("HTTPRoute", r.get("namespace"), r.get("name"))
        if not r.get("parents"):
            out.append({"source": "route", "state": "no-parents", "object_kind": "HTTPRoute",
                        "quote": f"{where}: status.parents is empty (no Gateway has taken this route)"})
        for p in r.get("parents") or []:
            ref = p.get("parentRef") or {}
            pwhere = f"{where} on Gateway {ref.get('namespace', r.get('namespace'))}/{ref.get('name')}"
            out += _cond_signals(p.get("conditions"), "route", "HTTPRoute", r.get("namespace"), r.get("name"), pwhere)
    if "parents" in ev and not ev.get("parents") and not ev.get("routes"):
        out.append({"source": "route", "state": "no-parents", "object_kind": "HTTPRoute",
                    "quote": "status.parents is empty (no Gateway has taken this route)"})
    return out


def pod_signals(ev: dict) -> list[dict]:
    out = []
    for p in ev.get("pods") or []:
        if p.get("ready"):
            continue
        where = f"pod {p.get('namespace')}/{p.get('name')}"
        quote = f"{where}: {p.get('state')}" + (f": {p.get('message')}" if p.get("message") else "")
        quote += f" (restarts: {p.get('restarts')})" if p.get("restarts") else ""
        base = {"source": "pod", "object_kind": "Pod", "namespace": p.get("namespace"), "name": p.get("name"),
                "message": p.get("message") or "", "quote": quote}
        if p.get("last_reason"):
            out.append({**base, "state": p["last_reason"], "reason": p["last_reason"],
                        "quote": f"{where}: last run ended {p['last_reason']} (exit code {p.get('exit_code')}), "
                                 f"restarts: {p.get('restarts')}"})
        out.append({**base, "state": p.get("state"), "reason": p.get("state")})
    return out


def event_signals(ev: dict) -> list[dict]:
    return [{"source": "event", "object_kind": e.get("kind"), "name": e.get("name"), "type": e.get("type"),
             "reason": e.get("reason"), "message": e.get("message") or "",
             "quote": f"event on {e.get('kind')} {e.get('name')}: {e.get('type')} {e.get('reason')}: {e.get('message')}"}
            for e in ev.get("events") or [] if e.get("type") == "Warning"]


def command_signals(ev: dict) -> list[dict]:
    cmd = ev.get("command")
    if not cmd:
        return []
    state = "missing-executable" if cmd.get("missing_executable") else ("timed-out" if cmd.get("timed_out") else "failed")
    text = "\n".join(str(cmd.get(k) or "") for k in ("output", "explanation"))
    return [{"source": "command", "state": state, "exit_code": cmd.get("exit_code"), "text": text,
             "quote": _tail(cmd.get("output") or cmd.get("explanation") or f"exit code {cmd.get('exit_code')}")}]


def http_signals(ev: dict) -> list[dict]:
    http = ev.get("http")
    if not http:
        return []
    state = "answered" if http.get("status") is not None else ("no-answer" if http.get("url") else "no-url")
    return [{"source": "http", "state": state, "http_status": http.get("status"), "text": http.get("error") or "",
             "message": http.get("body") or "", "quote": ev.get("check", {}).get("observed", "")}]


def other_signals(ev: dict) -> list[dict]:
    out = []
    obj = ev.get("object") or {}
    if obj and not obj.get("found"):
        out.append({"source": "object", "object_kind": obj.get("kind"), "state": "not-found",
                    "quote": f"{_where(obj.get('kind'), obj.get('namespace'), obj.get('name'))} not found"})
    if (ev.get("namespace") or {}).get("found") is False:
        out.append({"source": "namespace", "state": "not-found", "quote": f"namespace {ev['namespace']['name']} not found"})
    for b in ev.get("backends") or []:
        if not b.get("found"):
            out.append({"source": "backend", "state": "not-found",
                        "quote": f"Service {b.get('namespace')}/{b.get('name')} (the route's backend) not found"})
    for m in ev.get("backend_ports") or []:
        out.append({"source": "backend", "state": "port-mismatch", "object_kind": "HTTPRoute", "name": m.get("route"),
                    "namespace": m.get("route_ns"),
                    "quote": f"HTTPRoute {m.get('route_ns')}/{m.get('route')}: backendRef {m.get('service')} port "
                             f"{m.get('port')}; Service {m.get('service')} has port(s) "
                             f"{', '.join(str(x) for x in m.get('service_ports') or []) or 'none'}"})
    for d in ev.get("deployments") or []:
        if d.get("replicas") == 0:
            out.append({"source": "deployment", "state": "scaled-to-zero", "object_kind": "Deployment",
                        "name": d.get("name"), "namespace": d.get("namespace"),
                        "quote": f"Deployment {d.get('namespace')}/{d.get('name')}: 0 replicas wanted (spec.replicas: 0)"})
    if ev.get("missing"):
        out.append({"source": "crd", "state": "missing", "text": ", ".join(ev["missing"]),
                    "quote": "missing or not established: " + ", ".join(ev["missing"])})
    return out


def check_signals(ev: dict) -> list[dict]:
    c = ev.get("check") or {}
    state = "unreachable" if c.get("unreachable") else ("error" if c.get("error") else "failed")
    text = "\n".join(str(c.get(k) or "") for k in ("error", "observed"))
    return [{"source": "check", "state": state, "text": text, "quote": c.get("observed") or c.get("error") or ""}]


TIERS = {
    "command": ("command", "check"),
    "command_succeeds": ("command", "check"),
    "route_backend_ports": ("other", "check"),
    "route_accepted": ("other", "route", "gateway", "class", "listener", "pod", "event", "check"),
    "listener_attached_routes": ("gateway_missing", "listener", "route", "gateway", "class", "pod", "event", "check"),
    "http_get": ("gateway", "class", "listener", "route", "other", "pod", "event", "http", "check"),
    "deployment_available": ("other", "pod", "event", "check"),
    "pods_ready": ("other", "pod", "event", "check"),
    "crd_established": ("other", "check"),
}
# condition, resource_exists, gateway_programmed, namespace_exists and anything new
DEFAULT_TIERS = ("own", "other", "gateway", "class", "listener", "route", "pod", "event", "check")
PRODUCERS = {"gateway": gateway_signals, "listener": listener_signals, "class": class_signals,
             "route": route_signals, "pod": pod_signals, "event": event_signals, "command": command_signals,
             "http": http_signals, "other": other_signals, "check": check_signals,
             "gateway_missing": lambda ev: [s for s in gateway_signals(ev) if s.get("state") == "not-found"]}


def own_signals(ev: dict) -> list[dict]:
    """The judged object's own conditions (as recorded by the check)."""
    obj = ev.get("object") or {}
    kind = obj.get("kind") or ""
    source = {"Gateway": "gateway", "HTTPRoute": "route", "GatewayClass": "gatewayclass"}.get(kind, "condition")
    return _cond_signals(ev.get("conditions"), source, kind, obj.get("namespace"), obj.get("name"),
                         _where(kind, obj.get("namespace"), obj.get("name")))


PRODUCERS["own"] = own_signals


def signal_tiers(ev: dict) -> list[list[dict]]:
    """Signals grouped closest-to-the-failure first, by the kind of check that failed."""
    check = ev.get("check") or {}
    if check.get("unreachable"):
        return [check_signals(ev)]
    names = TIERS.get(check.get("kind"), DEFAULT_TIERS)
    return [tier for tier in (PRODUCERS[name](ev) for name in names) if tier]


def _tail(text: str, lines: int = 3) -> str:
    return " / ".join(l.strip() for l in (text or "").strip().splitlines()[-lines:] if l.strip())
