"""Explain failed checks and commands: evidence -> signals -> the first matching rule -> words.

Evidence (evidence.py) becomes *signals*: one per condition, pod state, event, command output,
HTTP answer. Signals come in tiers, closest to the failure first (the route's own status before
its Gateway's, the Gateway's address before the HTTP 404). Within a tier the step's own rules
are tried first, then the built-in rules in order (most specific first); the first rule that
matches a signal (and its `facts`) explains the failure. Nothing here imports textual.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

from tutorial.engine.evidence import base_evidence, command_evidence, gather_evidence
from tutorial.engine.explain_rules import (Rule, has_signal_keys, lesson_rule, load_rules, match_check,
                                           match_facts, match_signal)
from tutorial.engine.explain_rules.facts import facts_of


@dataclass
class ExplanationView:
    """One explained failure, ready to print or serialise."""

    check_id: str
    check_title: str
    rule_id: str
    source: str                  # "lesson", "builtin" or "generic"
    title: str
    observed: list[str]
    why: str
    fix: str
    fix_command: list[str] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, with_evidence: bool | None = None) -> dict[str, Any]:
        out = {"check": self.check_id, "check_title": self.check_title, "rule": self.rule_id,
               "source": self.source, "title": self.title, "observed": self.observed, "why": self.why,
               "fix": self.fix, "fix_command": self.fix_command}
        if with_evidence or (with_evidence is None and self.source == "generic"):
            out["evidence"] = self.evidence
        return out


# -- signals --------------------------------------------------------------------------

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


# -- matching and rendering -----------------------------------------------------------

def rules_for(step=None) -> list[Rule]:
    """The step's own explanations first, then the built-in rules."""
    own = [lesson_rule(e) for e in getattr(step, "explanations", ()) or ()]
    return own + list(load_rules())


def find_rule(ev: dict, rules: list[Rule], facts: dict) -> tuple[Rule, dict, dict] | None:
    """(rule, signal, captured groups) of the first match: the step's rules first, then built-in
    ones; each set tier by tier, rule by rule."""
    check = ev.get("check") or {}
    usable = [r for r in rules if match_check(r.when, check) and match_facts(r.when.get("facts") or {}, facts)]
    tiers = signal_tiers(ev)
    for group in ([r for r in usable if r.source == "lesson"], [r for r in usable if r.source != "lesson"]):
        found = _first_match(group, tiers)
        if found is not None:
            return found
    return None


def _first_match(rules: list[Rule], tiers: list[list[dict]]) -> tuple[Rule, dict, dict] | None:
    for tier in tiers:
        for rule in rules:
            if not has_signal_keys(rule.when):
                continue
            for signal in tier:
                groups = match_signal(rule.when, signal, rule.pattern)
                if groups is not None:
                    return rule, signal, groups
    for rule in rules:  # rules that name only the check or facts
        if not has_signal_keys(rule.when):
            return rule, {}, {}
    return None


class _Fill(string.Formatter):
    """str.format that records missing names instead of raising."""

    def __init__(self, values: dict):
        super().__init__()
        self.values, self.missing = values, set()

    def get_value(self, key, args, kwargs):
        value = self.values.get(key)
        if value in (None, ""):
            self.missing.add(key)
            return f"<{key}>"
        return value


def fill(template: str, values: dict) -> tuple[str, set]:
    f = _Fill(values)
    try:
        return f.format(template), f.missing
    except (ValueError, IndexError, AttributeError):
        return template, set()


def render(rule: Rule, ev: dict, signal: dict, values: dict) -> ExplanationView:
    check = ev.get("check") or {}
    observed = [check.get("observed")] if check.get("observed") else []
    said = " ".join(observed)
    if signal.get("quote") and signal["quote"] not in said and not (signal.get("message") and signal["message"] in said):
        observed.append(signal["quote"])
    argv = None
    if rule.fix_command:
        filled = [fill(a, values) for a in rule.fix_command]
        argv = None if any(m for _, m in filled) else [a for a, _ in filled]
    return ExplanationView(check_id=check.get("id", ""), check_title=check.get("title", ""), rule_id=rule.id,
                           source=rule.source, title=fill(rule.title, values)[0], observed=observed,
                           why=fill(rule.why, values)[0], fix=fill(rule.fix, values)[0], fix_command=argv,
                           evidence=ev)


def generic(ev: dict) -> ExplanationView:
    """No rule knows this failure: say so, and show everything that was gathered."""
    check = ev.get("check") or {}
    observed = [check.get("observed")] if check.get("observed") else []
    for tier in signal_tiers(ev):
        observed += [s["quote"] for s in tier if s.get("quote") and s["quote"] not in observed
                     and s.get("state") != "ok"][:6]
    obj = ev.get("object") or {}
    argv = None
    if obj.get("kind") and obj.get("name"):
        argv = ["kubectl", "describe", obj["kind"].lower(), obj["name"]] + (["-n", obj["namespace"]] if obj.get("namespace") else [])
    return ExplanationView(
        check_id=check.get("id", ""), check_title=check.get("title", ""), rule_id="generic", source="generic",
        title=f"{check.get('title') or 'The check'} failed, for a reason the tutorial does not recognise",
        observed=observed[:10],
        why="None of the tutorial's explanations matches what the cluster reports, so here is everything it "
            "gathered around the failure (also in `gateway-tutorial explain --json`).",
        fix="Read the conditions, pod states and events above, starting with the first. "
            + ("`kubectl describe` on the object shows the same with more context." if argv else
               "Then run the step again with `gateway-tutorial run` and compare."),
        fix_command=argv, evidence=ev)


def explain_evidence(ev: dict, step=None, rules: list[Rule] | None = None) -> ExplanationView:
    """The explanation of one failure from its evidence (pure: no cluster calls)."""
    values = facts_of(ev)
    found = find_rule(ev, rules if rules is not None else rules_for(step), values)
    if found is None:
        return generic(ev)
    rule, signal, groups = found
    about = {f"signal_{k}": signal.get(k) for k in ("object_kind", "name", "namespace", "type", "reason", "message")
             if signal.get(k) not in (None, "")}
    about["signal_kind_lower"] = str(signal.get("object_kind") or "").lower() or None
    return render(rule, ev, signal, {**values, **about, **groups})


def explain(step, results, outcome=None, engine=None) -> list:
    """Explanations of the step's failed command (if any) and of each failing check."""
    views = []
    failed = outcome.failed_command if outcome is not None else None
    if failed is not None:
        views.append(explain_evidence(command_evidence(failed), step))
    for result in results if results is not None else (outcome.checks if outcome else []):
        view = explain_result(engine, step, result)
        if view is not None:
            views.append(view)
    return views


def check_params(engine, step, check_id: str) -> dict:
    """The check's parameters with the lesson's variables filled in, as the engine ran them."""
    chk = next((c for c in getattr(step, "checks", ()) if c.id == check_id), None)
    if chk is None:
        return {}
    if engine is None:
        return dict(chk.params)
    from tutorial.lessons.variables import substitute

    values = engine.variables(step)

    def sub(value):
        if isinstance(value, str):
            try:
                return substitute(value, values)
            except ValueError:
                return value
        if isinstance(value, list):
            return [sub(v) for v in value]
        if isinstance(value, dict):
            return {k: sub(v) for k, v in value.items()}
        return value

    return sub(dict(chk.params))


def explain_result(engine, step, result) -> ExplanationView | None:
    """The explanation of one check result (None if it passed), gathering around it if possible."""
    if result.passed:
        return None
    params = check_params(engine, step, result.check_id)
    ev = gather_evidence(engine, result, params) if engine is not None else base_evidence(result, params)
    return explain_evidence(ev, step)


def explanation_json(engine, step, result) -> dict | None:
    """What `check --json` puts in a row's `explanation` field."""
    view = explain_result(engine, step, result)
    return view.to_json() if view is not None else None
