"""The live resource pane's data side, without Textual: watch a kind, turn objects into rows.

One thread per kind lists, then follows the watch API from that resourceVersion, and hands
plain row dicts to a callback each time the set changes. The cancel Event ends the watch at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

GATEWAY_API = "gateway.networking.k8s.io/v1"


@dataclass(frozen=True)
class Watched:
    api_version: str
    kind: str
    label: str  # short, shown in the pane's Kind column


WATCHED = (
    Watched("v1", "Pod", "pod"),
    Watched("apps/v1", "Deployment", "deploy"),
    Watched(GATEWAY_API, "Gateway", "gateway"),
    Watched(GATEWAY_API, "HTTPRoute", "route"),
)


def _conditions(obj_or_status: dict) -> dict[str, str]:
    return {c.get("type", ""): c.get("status", "") for c in obj_or_status.get("conditions") or []}


def _yes(value: str) -> str:
    return {"True": "yes", "False": "NO"}.get(value, "?")


def pod_status(pod: dict) -> str:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = status.get("phase", "Unknown")
    for c in statuses:
        waiting = (c.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return f"{reason} {ready}/{len(statuses)}, {restarts} restarts"


def deployment_status(dep: dict) -> str:
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    available = _conditions(status).get("Available", "")
    ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)} ready"
    return ready if available == "True" else f"{ready}, not available"


def gateway_status(gw: dict) -> str:
    status = gw.get("status") or {}
    addresses = [a.get("value", "") for a in status.get("addresses") or []]
    programmed = _yes(_conditions(status).get("Programmed", ""))
    return f"programmed {programmed}, address {', '.join(addresses) or 'pending'}"


def route_status(route: dict) -> str:
    parents = (route.get("status") or {}).get("parents") or []
    if not parents:
        return "no parent has answered yet"
    parts = []
    for parent in parents:
        cond = _conditions(parent)
        name = (parent.get("parentRef") or {}).get("name", "?")
        parts.append(f"{name}: accepted {_yes(cond.get('Accepted', ''))}, "
                     f"refs {_yes(cond.get('ResolvedRefs', ''))}")
    return "; ".join(parts)


STATUS: dict[str, Callable[[dict], str]] = {
    "Pod": pod_status, "Deployment": deployment_status,
    "Gateway": gateway_status, "HTTPRoute": route_status,
}


def rows(watched: Watched, objects: list[dict], namespaces: set[str]) -> list[dict]:
    """Sorted plain rows for the pane: kind, namespace, name, status."""
    out = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        if namespaces and meta.get("namespace") not in namespaces:
            continue
        out.append({"kind": watched.label, "namespace": meta.get("namespace", ""),
                    "name": meta.get("name", ""), "status": STATUS[watched.kind](obj)})
    return sorted(out, key=lambda r: (r["namespace"], r["name"]))


def follow(client, watched: Watched, namespaces: set[str], cancel: threading.Event,
           publish: Callable[[Watched, list[dict], str | None], None]) -> None:
    """List then watch `watched` cluster-wide until cancel is set; publish rows on change."""
    from tutorial.cluster.client import ClusterError

    while not cancel.is_set():
        try:
            ref = client.resource(watched.api_version, watched.kind)
            listed, rv = client.list(ref)
            items = {_key(o): o for o in listed}
            publish(watched, rows(watched, list(items.values()), namespaces), None)
            for kind, obj in client.watch(ref, None, rv, cancel=cancel):
                if kind in ("ADDED", "MODIFIED"):
                    items[_key(obj)] = obj
                elif kind == "DELETED":
                    items.pop(_key(obj), None)
                elif kind == "ERROR":
                    break  # e.g. 410 Gone: list again
                if kind != "BOOKMARK":
                    publish(watched, rows(watched, list(items.values()), namespaces), None)
        except ClusterError as exc:
            publish(watched, [], _not_served(watched, exc))
            if cancel.wait(5.0):  # the CRD may appear later (lesson 3 installs it)
                return


def _not_served(watched: Watched, exc) -> str:
    if getattr(exc, "status", None) == 404:
        return f"{watched.kind}s appear once the Gateway API CRDs are installed (lesson 3)"
    return f"{watched.kind}s: {exc}"


def _key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def lesson_namespaces(lessons) -> set[str]:
    """Namespaces the lessons' checks look at: the objects the pane should show."""
    found = set()
    for lesson in lessons.lessons:
        variables = getattr(lesson, "variables", None) or {}
        for step in lesson.steps:
            for chk in step.checks:
                ns = chk.params.get("namespace")
                if isinstance(ns, str) and ns:
                    found.add(_fill(ns, variables))
    return found


def _fill(text: str, variables: dict) -> str:
    for key, value in variables.items():
        text = text.replace("{" + key + "}", str(value))
    return text
