"""Typed checks: each waits on the watch API until its condition holds or its deadline passes.

A check returns what it observed, in words for the learner and as structured evidence for the
explanations. Checks that cannot ask the cluster fail with `unreachable` set, never raise.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tutorial.cluster.client import ClusterClient, ClusterError, ResourceRef, WaitOutcome
from tutorial.engine.sentinel import pod_sentinel
from tutorial.engine.settle import Watch

GATEWAY_API = "gateway.networking.k8s.io/v1"


@dataclass
class CheckResult:
    """The verdict of one check and what it was based on."""

    check_id: str
    kind: str
    title: str
    passed: bool
    observed: str
    evidence: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    error: str | None = None
    unreachable: bool = False
    cancelled: bool = False
    transient: bool = False  # the API server kept failing (5xx, 429, dropped): says nothing about the step
    settled: str | None = None   # why the failure is settled (failed before the timeout), else None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check_id, "kind": self.kind, "title": self.title, "passed": self.passed,
                "observed": self.observed, "error": self.error, "unreachable": self.unreachable,
                "settled": self.settled, "duration": round(self.duration, 3)}


@dataclass
class CheckContext:
    """What a check needs: the cluster client, a cancel flag, and a command runner for CLI facts."""

    client: ClusterClient
    cancel: threading.Event | None = None
    run_argv: Callable[[list[str], float], tuple[int, str]] | None = None
    run_target: Any = None             # RunTarget for helpers a check starts (kubectl port-forward)
    sandbox: bool | None = None        # None: checks find out from the cluster
    facts: dict | None = None          # doctor's facts (lb_available, istio, gateway_api) when known
    ran: bool = False                  # the step's own commands just succeeded (a missing object is settled)
    on_observe: Callable[[str, float], None] | None = None  # live "what the check sees" (text, since)
    watch: Watch | None = None         # set per check by run_check
    step_failure: Any = None           # settle.StepFailure shared by the checks of one step


Verdict = tuple[bool, str, dict]
CHECKS: dict[str, Callable[[CheckContext, dict, float], "Verdict | WaitOutcome"]] = {}


def check(kind: str):
    def register(fn):
        CHECKS[kind] = fn
        return fn
    return register


def run_check(ctx: CheckContext, kind: str, params: dict, *, timeout: float,
              check_id: str = "", title: str = "") -> CheckResult:
    """Run one check of `kind` with its lesson parameters; never raises for cluster trouble.

    The check waits until its condition holds, its timeout passes, or the state it sees is
    settled wrong (settle.Watch): then it fails at once, with `settled` saying why.
    """
    start = time.monotonic()
    result = CheckResult(check_id or kind, kind, title or default_title(kind, params), False, "")
    with Watch(kind, params, ran=ctx.ran, cancel=ctx.cancel, on_observe=ctx.on_observe,
               step_failure=ctx.step_failure, ticking=timeout > 0) as watch:
        watch.client = ctx.client
        mine = dataclasses.replace(ctx, cancel=watch.stop, watch=watch)
        try:
            passed, observed, evidence = CHECKS[kind](mine, params, timeout)
            result.passed, result.observed, result.evidence = passed, observed, evidence
            result.cancelled = bool(evidence.pop("_cancelled", False))
            error = evidence.pop("_error", None)
            if error is not None:
                result.error, result.unreachable = str(error), error.unreachable
                result.transient = getattr(error, "transient", False)
                result.observed = str(error) if result.transient else (result.observed or str(error))
        except ClusterError as exc:
            result.error, result.unreachable, result.observed = str(exc), exc.unreachable, str(exc)
            result.transient = exc.transient
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:  # an object of an odd shape
            result.error = f"the cluster's answer has an unexpected shape ({type(exc).__name__}: {exc})"
            result.observed = result.observed or result.error
    if watch.settled and not result.passed and not watch.cancelled:
        result.settled, result.cancelled = watch.settled, False
        result.evidence["settled"] = watch.settled
        if watch.by_sibling:
            result.evidence["stopped_by_sibling"] = True
        elif ctx.step_failure is not None:
            ctx.step_failure.fail(f"“{result.title}” already failed")
        result.observed = _with_reason(result.observed, watch.settled)
    result.cancelled = result.cancelled and watch.cancelled
    result.duration = time.monotonic() - start
    return result


def _with_reason(observed: str, settled: str) -> str:
    """What the check saw, plus why it stopped waiting when that adds something."""
    if not observed:
        return settled
    detail = settled.rsplit(": ", 1)[-1]
    if settled in observed or detail in observed or ("not found" in settled and "not found" in observed):
        return observed
    return f"{observed} — {settled}"


def default_title(kind: str, p: dict) -> str:
    titles = {
        "namespace_exists": lambda: f"namespace {p.get('name')} exists",
        "crd_established": lambda: f"{len(p.get('names', []))} CRD(s) established",
        "deployment_available": lambda: f"Deployment {p.get('name') or p.get('selector')} available in {p.get('namespace')}",
        "pods_ready": lambda: f"{p.get('count', 1)} pod(s) {p.get('selector')} Ready in {p.get('namespace')}",
        "resource_exists": lambda: f"{p.get('object_kind')} {p.get('name')} exists",
        "condition": lambda: f"{p.get('object_kind')} {p.get('name')} {p.get('type')}={p.get('status', 'True')}",
        "gateway_programmed": lambda: f"Gateway {p.get('name')} Programmed",
        "listener_attached_routes": lambda: f"Gateway {p.get('gateway')} has {p.get('count', 1)} attached route(s)",
        "route_accepted": lambda: f"{p.get('kind', 'HTTPRoute')} {p.get('name')} Accepted",
        "http_get": lambda: f"HTTP {p.get('status', 200)} from {p.get('url') or 'the Gateway'}",
        "command_succeeds": lambda: f"`{' '.join(p.get('run', []))}` succeeds",
    }
    try:
        return titles[kind]()
    except (KeyError, AttributeError, TypeError):
        return kind


# -- helpers --------------------------------------------------------------------------

def _wait(ctx: CheckContext, ref: ResourceRef, namespace: str | None, judge, timeout: float, *,
          name: str | None = None, selector: str | None = None) -> tuple[WaitOutcome, dict]:
    if ctx.watch is not None:
        judge = ctx.watch.judge(judge, ref.kind)
    outcome = ctx.client.wait_for(ref, namespace, judge, timeout=timeout, name=name,
                                  label_selector=selector, cancel=ctx.cancel)
    if ctx.watch is not None and ctx.watch.settled:  # the judge stopped the wait on a settled state
        outcome = WaitOutcome(False, outcome.items, error=outcome.error)
    evidence: dict[str, Any] = {"objects": outcome.items, "ref": {"api_version": ref.api_version,
                                "kind": ref.kind, "namespace": namespace, "name": name}}
    if outcome.error is not None:
        evidence["_error"] = outcome.error
    if outcome.cancelled:
        evidence["_cancelled"] = True
    return outcome, evidence


def conditions_of(obj: dict | None) -> list[dict]:
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def find_condition(conds: list[dict], ctype: str) -> dict | None:
    return next((c for c in conds if c.get("type") == ctype), None)


def describe_condition(cond: dict | None, ctype: str) -> str:
    if cond is None:
        return f"{ctype}: not reported yet"
    text = f"{ctype}={cond.get('status')}"
    if cond.get("reason"):
        text += f" ({cond['reason']})"
    if cond.get("message"):
        text += f": {cond['message']}"
    return text


def _fresh(cond: dict, obj: dict) -> bool:
    """The condition speaks of the object's latest spec (observedGeneration, where written, not behind):
    right after an edit the old verdict must not pass."""
    seen, gen = cond.get("observedGeneration"), (obj.get("metadata") or {}).get("generation")
    return seen is None or gen is None or seen >= gen


def _cond_ok(obj: dict, ctype: str, status: str = "True", reason: str | None = None) -> bool:
    cond = find_condition(conditions_of(obj), ctype)
    return bool(cond and cond.get("status") == status and (reason is None or cond.get("reason") == reason)
                and _fresh(cond, obj))


def _one(items: list[dict]) -> dict | None:
    return items[0] if items else None


# -- check kinds ----------------------------------------------------------------------

@check("namespace_exists")
def _namespace_exists(ctx, p, timeout):
    ref = ctx.client.resource("v1", "Namespace")
    ok = lambda items: any((o.get("status") or {}).get("phase", "Active") == "Active" for o in items)
    outcome, ev = _wait(ctx, ref, None, ok, timeout, name=p["name"])
    ns = _one(outcome.items)
    phase = (ns.get("status") or {}).get("phase", "Active") if ns else None
    observed = f"namespace {p['name']}: {phase}" if ns else f"namespace {p['name']} not found"
    return outcome.passed, observed, ev


@check("crd_established")
def _crd_established(ctx, p, timeout):
    ref = ctx.client.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    wanted = list(p["names"])

    def missing(items):
        established = {o["metadata"]["name"] for o in items if _cond_ok(o, "Established")}
        return [n for n in wanted if n not in established]

    name = wanted[0] if len(wanted) == 1 else None
    outcome, ev = _wait(ctx, ref, None, lambda items: not missing(items), timeout, name=name)
    ev["objects"] = [o for o in outcome.items if o["metadata"]["name"] in wanted]
    gone = missing(outcome.items)
    ev["missing"] = gone
    observed = (f"{len(wanted)}/{len(wanted)} established" if not gone
                else f"{len(wanted) - len(gone)}/{len(wanted)} established; missing or not established: {', '.join(gone)}")
    return outcome.passed, observed, ev


def _deployment_ready(d: dict) -> bool:
    """Available with every wanted replica ready and updated; a Deployment scaled to 0 is not."""
    spec, st = d.get("spec") or {}, d.get("status") or {}
    want = spec.get("replicas", 1)
    return (want >= 1 and _cond_ok(d, "Available") and st.get("readyReplicas", 0) >= want
            and st.get("updatedReplicas", 0) >= want
            and st.get("observedGeneration", 0) >= d["metadata"].get("generation", 0))


def _deployment_line(d: dict) -> str:
    st = d.get("status") or {}
    return f"{d['metadata']['name']} {st.get('readyReplicas', 0)}/{(d.get('spec') or {}).get('replicas', 1)} ready"


@check("deployment_available")
def _deployment_available(ctx, p, timeout):
    ref = ctx.client.resource("apps/v1", "Deployment")
    count = 1 if p.get("name") else int(p.get("count", 1))
    ok = lambda items: len(items) >= count and all(_deployment_ready(d) for d in items)
    with pod_sentinel(ctx, p["namespace"], None, timeout):
        outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, name=p.get("name"), selector=p.get("selector"))
    if not outcome.items:
        what = p.get("name") or f"matching {p.get('selector')}"
        return False, f"no Deployment {what} in namespace {p['namespace']}", ev
    lines = ", ".join(_deployment_line(d) for d in outcome.items)
    if len(outcome.items) < count:
        lines += f" (expected {count} Deployments, found {len(outcome.items)})"
    return outcome.passed, lines, ev


def pod_state(pod: dict) -> str:
    """kubectl's STATUS column, near enough: a waiting/terminated reason or the phase."""
    st = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for cs in st.get("containerStatuses") or []:
        state = cs.get("state") or {}
        for key in ("waiting", "terminated"):
            if state.get(key, {}).get("reason"):
                return state[key]["reason"]
    return st.get("phase", "Unknown")


def pod_ready(pod: dict) -> bool:
    return _cond_ok(pod, "Ready") and not pod["metadata"].get("deletionTimestamp")


@check("pods_ready")
def _pods_ready(ctx, p, timeout):
    ref = ctx.client.resource("v1", "Pod")
    count = int(p.get("count", 1))
    ok = lambda items: sum(pod_ready(o) for o in items) >= count
    outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, selector=p.get("selector"))
    if ctx.watch is not None and ctx.watch.settled:  # a pod that will not start: the count is moot
        ev["settled"] = ctx.watch.settled
    ready = sum(pod_ready(o) for o in outcome.items)
    if not outcome.items:
        return False, f"no pods match {p.get('selector')} in namespace {p['namespace']}", ev
    states = ", ".join(f"{o['metadata']['name']} {pod_state(o)}" for o in outcome.items[:6])
    return outcome.passed, f"{ready}/{count} Ready ({states})", ev


def _object(p: dict) -> dict:
    return {"api_version": p["api_version"], "kind": p["object_kind"],
            "namespace": p.get("namespace"), "name": p["name"]}


def _object_ref(ctx, obj: dict) -> ResourceRef:
    return ctx.client.resource(obj["api_version"], obj["kind"])


@check("resource_exists")
def _resource_exists(ctx, p, timeout):
    obj = _object(p)
    ref = _object_ref(ctx, obj)
    outcome, ev = _wait(ctx, ref, obj.get("namespace"), bool, timeout, name=obj["name"])
    where = f" in namespace {obj['namespace']}" if obj.get("namespace") else ""
    observed = f"{obj['kind']} {obj['name']}{where}: " + ("found" if outcome.items else "not found")
    return outcome.passed, observed, ev


@check("condition")
def _condition(ctx, p, timeout):
    obj = _object(p)
    ref = _object_ref(ctx, obj)
    status, reason = str(p.get("status", "True")), p.get("reason")
    ok = lambda items: any(_cond_ok(o, p["type"], status, reason) for o in items)
    outcome, ev = _wait(ctx, ref, obj.get("namespace"), ok, timeout, name=obj["name"])
    found = _one(outcome.items)
    if found is None:
        return False, f"{obj['kind']} {obj['name']} not found", ev
    cond = find_condition(conditions_of(found), p["type"])
    ev["conditions"] = conditions_of(found)
    return outcome.passed, f"{obj['kind']} {obj['name']}: {describe_condition(cond, p['type'])}", ev


def gateway_summary(gw: dict) -> str:
    conds = conditions_of(gw)
    addresses = [a.get("value") for a in (gw.get("status") or {}).get("addresses") or []]
    parts = [describe_condition(find_condition(conds, t), t) for t in ("Accepted", "Programmed")]
    parts.append(f"address {addresses[0]}" if addresses else "no address")
    return "; ".join(parts)


@check("gateway_programmed")
def _gateway_programmed(ctx, p, timeout):
    ref = ctx.client.resource(GATEWAY_API, "Gateway")
    need_address = p.get("address", True)

    def ok(items):
        return any(_cond_ok(g, "Accepted") and _cond_ok(g, "Programmed")
                   and (not need_address or (g.get("status") or {}).get("addresses")) for g in items)

    outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, name=p["name"])
    gw = _one(outcome.items)
    if gw is None:
        return False, f"Gateway {p['name']} not found in namespace {p['namespace']}", ev
    ev["conditions"] = conditions_of(gw)
    return outcome.passed, f"Gateway {p['name']}: {gateway_summary(gw)}", ev


def _listeners(gw: dict, name: str | None) -> list[dict]:
    found = (gw.get("status") or {}).get("listeners") or []
    return [l for l in found if name is None or l.get("name") == name]


@check("listener_attached_routes")
def _listener_attached(ctx, p, timeout):
    ref = ctx.client.resource(GATEWAY_API, "Gateway")
    count, lname = int(p.get("count", 1)), p.get("listener")

    def listener_ok(l, g):
        accepted = find_condition(l.get("conditions") or [], "Accepted")
        return ((accepted is None or (accepted.get("status") == "True" and _fresh(accepted, g)))
                and l.get("attachedRoutes", 0) >= count)

    ok = lambda items: any(_listeners(g, lname) and all(listener_ok(l, g) for l in _listeners(g, lname))
                           for g in items)
    outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, name=p["gateway"])
    gw = _one(outcome.items)
    if gw is None:
        return False, f"Gateway {p['gateway']} not found in namespace {p['namespace']}", ev
    listeners = _listeners(gw, lname)
    ev["listeners"] = listeners
    if not listeners:
        return False, f"Gateway {p['gateway']}: listener {lname or '(any)'} has no status yet", ev
    text = "; ".join(f"listener {l.get('name')}: attachedRoutes {l.get('attachedRoutes', 0)}, "
                     + describe_condition(find_condition(l.get("conditions") or [], "Accepted"), "Accepted")
                     for l in listeners)
    return outcome.passed, text, ev


def route_parent_status(route: dict, parent: dict) -> dict | None:
    """The status entry of `route` for the Gateway `parent` (name, namespace, section_name)."""
    route_ns = route["metadata"].get("namespace")
    for entry in (route.get("status") or {}).get("parents") or []:
        ref = entry.get("parentRef") or {}
        if (ref.get("name") == parent["name"] and ref.get("namespace", route_ns) == parent.get("namespace", route_ns)
                and (not parent.get("section_name") or ref.get("sectionName") == parent["section_name"])):
            return entry
    return None


def _entry_ok(entry: dict, ctype: str, route: dict | None = None) -> bool:
    """A condition of a route's per-parent status entry (they sit on the entry, not in .status)."""
    cond = find_condition(list(entry.get("conditions") or []), ctype)
    return bool(cond and cond.get("status") == "True" and _fresh(cond, route or {}))


@check("route_accepted")
def _route_accepted(ctx, p, timeout):
    ref = ctx.client.resource(GATEWAY_API, p.get("route_kind", "HTTPRoute"))
    parent = p["parent"]

    def ok(items):
        for r in items:
            entry = route_parent_status(r, parent)
            if entry and all(_entry_ok(entry, t, r) for t in ("Accepted", "ResolvedRefs")):
                return True
        return False

    outcome, ev = _wait(ctx, ref, p["namespace"], ok, timeout, name=p["name"])
    route = _one(outcome.items)
    kind = p.get("route_kind", "HTTPRoute")
    if route is None:
        return False, f"{kind} {p['name']} not found in namespace {p['namespace']}", ev
    entry = route_parent_status(route, parent)
    ev["parents"] = (route.get("status") or {}).get("parents") or []
    if entry is None:
        return False, (f"{kind} {p['name']} has no status for Gateway {parent.get('namespace', p['namespace'])}/"
                       f"{parent['name']} (status.parents lists {len(ev['parents'])} parent(s))"), ev
    conds = list(entry.get("conditions") or [])
    ev["conditions"] = conds
    text = "; ".join(describe_condition(find_condition(conds, t), t) for t in ("Accepted", "ResolvedRefs"))
    return outcome.passed, f"{kind} {p['name']}: {text}", ev


@check("command_succeeds")
def _command_succeeds(ctx, p, timeout):
    if ctx.run_argv is None:
        return False, "no command runner available", {}
    code, output = ctx.run_argv(list(p["run"]), timeout)
    tail = output.strip().splitlines()[-3:] if output.strip() else []
    observed = f"exit code {code}" + (f": {' / '.join(tail)}" if tail and code != 0 else "")
    return code == 0, observed, {"exit_code": code, "output": output[-4000:]}


from tutorial.engine import http_check as _http_check  # noqa: E402,F401  (registers http_get)
from tutorial.engine import route_checks as _route_checks  # noqa: E402,F401  (registers route_backend_ports)
