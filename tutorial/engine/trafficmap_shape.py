"""What the traffic map does with objects it cannot read: keep only objects with a metadata map and
a name, and turn one whose shape its chain cannot follow into a node that says so honestly."""

from __future__ import annotations


def _node(*args, **kwargs):
    from tutorial.engine.trafficmap import Node

    return Node(*args, **kwargs)


def readable(snap) -> dict:
    """The snapshot's lists, keeping only objects with a metadata map and a string name."""
    snap = snap if isinstance(snap, dict) else {}
    out = dict(snap)
    for key in ("gateways", "classes", "routes", "services", "pods", "namespaces"):
        items = snap.get(key)
        out[key] = [o for o in items if isinstance(o, dict) and isinstance(o.get("metadata"), dict)
                    and isinstance(o["metadata"].get("name"), str)
                    and isinstance(o["metadata"].get("namespace", ""), (str, type(None)))
                    ] if isinstance(items, list) else []
        for o in out[key]:
            if o["metadata"].get("namespace") is None:
                o["metadata"].pop("namespace", None)
    if not isinstance(out.get("notes"), list):
        out["notes"] = []
    return out


def unreadable_node(kind: str, obj: dict, exc: Exception) -> Node:
    meta = obj["metadata"]
    where = f"{kind} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
    return _node(f"unreadable/{kind}/{meta.get('namespace', '')}/{meta['name']}", kind.lower(), where, "broken",
                "unreadable", detail=[f"the cluster's answer has an unexpected shape ({type(exc).__name__})"],
                explanation={"rule": "unreadable", "source": "generic",
                             "title": f"{where} could not be read",
                             "observed": [f"{where}: fields of an unexpected type"],
                             "why": f"The cluster returned {where} in a shape the map does not expect "
                                    f"({type(exc).__name__}), so it cannot follow traffic through it.",
                             "fix": f"Look at it with `kubectl get {kind.lower()} {meta['name']} -o yaml` and "
                                    "re-apply the lesson's manifest.",
                             "fix_command": None})
