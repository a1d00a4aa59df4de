"""The evidence format's shape, enforced: whatever the cluster (or a recorded file) put in an
evidence dict, the rules and templates only ever see values of the types they expect.

Evidence is gathered best effort from objects the cluster may return in any shape (a list where a
map belongs, a number for a name, an empty `status.addresses`). `conform(ev)` keeps each known
field only if it has its documented type (lists keep their well-typed items), so signals and
facts never raise on it. Unknown keys pass through untouched.
"""

from __future__ import annotations

from typing import Any

S, I, B, N = "str", "int", "bool", "num"   # scalars: str (numbers become text), int, bool, any scalar
COND = {"type": S, "status": S, "reason": S, "message": S, "observedGeneration": I, "lastTransitionTime": S}
LISTENER = {"name": S, "index": I, "port": I, "protocol": S, "hostname": S, "allowed_from": S, "selector": {S: S},
            "attachedRoutes": I, "has_status": B, "conditions": [COND]}
REF = {"group": S, "kind": S, "name": S, "namespace": S, "port": I, "sectionName": S}
SHAPE: dict[str, Any] = {
    "check": {"id": S, "kind": S, "title": S, "passed": B, "observed": S, "error": S, "unreachable": B},
    "params": dict,
    "object": {"kind": S, "name": S, "namespace": S, "found": B},
    "conditions": [COND], "missing": [S], "listeners": [LISTENER],
    "parents": [{"parentRef": REF, "conditions": [COND], "controllerName": S}],
    "gateway": {"name": S, "namespace": S, "found": B, "class": S, "annotations": {S: S}, "conditions": [COND],
                "addresses": [S], "listeners": [LISTENER], "elsewhere": [S]},
    "gatewayclass": {"name": S, "found": B, "controller": S, "conditions": [COND], "known": [S]},
    "service": {"name": S, "namespace": S, "type": S, "external": [S], "ports": [I]},
    "routes": [{"name": S, "namespace": S, "hostnames": [S], "parent_refs": [REF],
                "parents": [{"parentRef": REF, "conditions": [COND]}],
                "backends": [{"name": S, "namespace": S, "port": I, "kind": S}], "namespace_labels": {S: S}}],
    "route_missing": {"name": S, "namespace": S},
    "pods": [{"name": S, "namespace": S, "phase": S, "ready": B, "state": S, "message": S, "restarts": I,
              "last_reason": S, "exit_code": I, "container": S, "image": S, "scheduled": dict}],
    "events": [{"kind": S, "name": S, "namespace": S, "type": S, "reason": S, "message": S, "count": I}],
    "http": {"url": S, "status": I, "error": S, "body": S, "host": S, "port": I,
             "service": {"name": S, "namespace": S, "type": S, "external": [S], "ports": [I]}},
    "command": {"argv": [S], "exit_code": I, "output": S, "missing_executable": S, "timed_out": B, "explanation": S},
    "istio": {"installed": B, "image": S, "version": S, "ready": B, "installer": S},
    "crds": {"bundle_versions": {S: S}, "extra": [S], "safe_upgrades": B},
    "namespace": {"name": S, "found": B},
    "backends": [{"name": S, "namespace": S, "found": B}],
    "deployments": [{"name": S, "namespace": S, "replicas": I, "ready": I}],
    "backend_ports": [{"route": S, "route_ns": S, "rule": I, "ref": I, "service": S, "namespace": S, "port": I,
                       "service_ports": [I], "target_ports": [N]}],
    "cluster": {"context": S, "sandbox": B, "flavor": S, "nodes": [S]},
}
_DROP = object()


def conform(ev: Any) -> dict:
    """`ev` with every known field of the wrong type left out (see module doc)."""
    if not isinstance(ev, dict):
        return {}
    out = {}
    for key, value in ev.items():
        shaped = _fit(value, SHAPE[key]) if key in SHAPE else value
        if shaped is not _DROP:
            out[key] = shaped
    return out


def _fit(value: Any, shape: Any) -> Any:
    if value is None:
        return None
    if shape is dict:
        return value if isinstance(value, dict) else _DROP
    if isinstance(shape, list):
        if not isinstance(value, list):
            return _DROP
        return [v for v in (_fit(item, shape[0]) for item in value) if v is not _DROP and v is not None]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return _DROP
        if len(shape) == 1 and next(iter(shape)) == S:  # a string map: labels, selectors, versions
            inner = shape[S]
            return {str(k): v for k, v in ((k, _fit(v, inner)) for k, v in value.items()) if v is not _DROP}
        out = {}
        for key, item in value.items():
            fitted = _fit(item, shape[key]) if key in shape else item
            if fitted is not _DROP:
                out[key] = fitted
        return out
    return _scalar(value, shape)


def _scalar(value: Any, kind: str) -> Any:
    if kind == B:
        return value if isinstance(value, bool) else _DROP
    if kind == I:
        return value if isinstance(value, int) and not isinstance(value, bool) else _DROP
    if kind == N:
        return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else _DROP
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return _DROP
    return str(value)
