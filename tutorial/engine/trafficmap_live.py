"""The traffic map from a live cluster: list what the map needs, and rebuild it on every watch event.

`load_snapshot` lists the objects through a ClusterClient; `follow` rebuilds the map whenever a
watched kind changes. The map itself is built (purely) by tutorial.engine.trafficmap, which
re-exports the names here so callers import everything from there.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from tutorial.cluster.client import ClusterError
from tutorial.engine.trafficmap import GW, TrafficMap, build_map

WATCHED = (("Gateway", GW), ("HTTPRoute", GW), ("GatewayClass", GW), ("Service", "v1"), ("Pod", "v1"))


def load_snapshot(client) -> dict[str, Any]:
    """Every object the map needs, as plain dicts; CRDs missing is a note, not an error."""
    snap: dict[str, Any] = {"gateways": [], "classes": [], "routes": [], "services": [], "pods": [],
                            "namespaces": [], "notes": []}
    try:
        snap["gateways"] = _list(client, GW, "Gateway")
        snap["classes"] = _list(client, GW, "GatewayClass")
        snap["routes"] = _list(client, GW, "HTTPRoute")
    except ClusterError as exc:
        if exc.status != 404:
            raise
        snap["notes"].append("The Gateway API CRDs are not installed, so there are no Gateways or routes yet "
                             "(lesson gateway-api installs them).")
        return snap
    snap["namespaces"] = _list(client, "v1", "Namespace")
    for ns in sorted(_namespaces_of(snap)):
        snap["services"] += _list(client, "v1", "Service", ns)
        snap["pods"] += _list(client, "v1", "Pod", ns)
    return snap


def _list(client, api_version: str, kind: str, ns: str | None = None) -> list[dict]:
    items = client.list(client.resource(api_version, kind), ns)[0]
    return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def _namespaces_of(snap: dict) -> set[str]:
    found = {g["metadata"]["namespace"] for g in snap["gateways"]}
    for r in snap["routes"]:
        ns = r["metadata"]["namespace"]
        found.add(ns)
        found.update(b.get("namespace", ns) for rule in (r.get("spec") or {}).get("rules") or []
                     for b in rule.get("backendRefs") or [])
    return found


def cluster_info(engine) -> dict:
    """What the explanations need to know about the cluster (which load-balancer advice to give)."""
    return {"context": engine.target.context, "sandbox": bool(engine.target.sandbox)}


def traffic_map(engine) -> TrafficMap:
    """The map of the engine's cluster, now (blocking: call from a worker thread)."""
    return build_map(load_snapshot(engine.client), cluster_info(engine))


def follow(client, on_map: Callable[[TrafficMap], None], cancel: threading.Event, *,
           cluster: dict | None = None, on_error: Callable[[Exception], None] | None = None,
           settle: float = 0.15) -> None:
    """Call on_map with a fresh map now and whenever a watched kind changes, until cancel is set.

    One watcher thread per kind sets a flag on each event; this thread rebuilds, skipping maps
    equal to the last one. `settle` seconds gather a burst of events into one rebuild.
    """
    changed = threading.Event()
    changed.set()
    for kind, api_version in WATCHED:
        threading.Thread(target=_watch_kind, args=(client, api_version, kind, changed, cancel),
                         daemon=True, name=f"map-watch-{kind}").start()
    last = None
    while not cancel.is_set():
        if not changed.wait(timeout=1.0):
            continue
        cancel.wait(settle)
        changed.clear()
        last = _rebuild(client, on_map, cancel, changed, cluster, on_error, last)


def _rebuild(client, on_map, cancel: threading.Event, changed: threading.Event, cluster: dict | None,
             on_error, last: dict | None) -> dict | None:
    """Build the map once and hand it on when it differs from `last`; returns the new `last`."""
    try:
        current = build_map(load_snapshot(client), cluster)
    except ClusterError as exc:
        if on_error:
            on_error(exc)
        cancel.wait(2.0)  # the cluster does not answer: try again shortly
        changed.set()
        return last
    if current.to_json() != last:
        last = current.to_json()
        on_map(current)
    return last


def _watch_kind(client, api_version: str, kind: str, changed: threading.Event, cancel: threading.Event) -> None:
    """Set `changed` on every event of one kind; relist when a watch ends (a missed event is seen then)."""
    quiet = True  # follow() builds once at the start: the first list needs no rebuild
    while not cancel.is_set():
        try:
            ref = client.resource(api_version, kind)
            _, rv = client.list(ref, None)
            if not quiet:
                changed.set()  # something may have changed between two watches (or while away)
            quiet = False
            for event, _obj in client.watch(ref, None, rv, cancel=cancel):
                if event != "BOOKMARK":
                    changed.set()
        except ClusterError:
            quiet = False
            cancel.wait(2.0)  # CRDs not installed yet, or the cluster is away: look again later
