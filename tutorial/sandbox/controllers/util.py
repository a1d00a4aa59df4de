"""Small helpers shared by the simulated controllers: owners, names, conditions, safe writes."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from typing import Any, Callable

from tutorial.sandbox.storage import objects as st

LOG = logging.getLogger("tutorial.sandbox.controllers")
GR = tuple[str, str]

PODS: GR = ("", "pods")
SERVICES: GR = ("", "services")
ENDPOINTS: GR = ("", "endpoints")
NAMESPACES: GR = ("", "namespaces")
NODES: GR = ("", "nodes")
SERVICEACCOUNTS: GR = ("", "serviceaccounts")
CONFIGMAPS: GR = ("", "configmaps")
DEPLOYMENTS: GR = ("apps", "deployments")
REPLICASETS: GR = ("apps", "replicasets")
ENDPOINTSLICES: GR = ("discovery.k8s.io", "endpointslices")

# Kubernetes' "safe" alphabet for generated name suffixes (no vowels, no look-alikes).
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
_rand = random.Random()

# Kinds a controller may own, for the garbage collector when the registry is absent.
KIND_TO_GR: dict[tuple[str, str], GR] = {
    ("apps", "Deployment"): DEPLOYMENTS, ("apps", "ReplicaSet"): REPLICASETS,
    ("apps", "StatefulSet"): ("apps", "statefulsets"), ("apps", "DaemonSet"): ("apps", "daemonsets"),
    ("", "Pod"): PODS, ("", "Service"): SERVICES, ("", "Namespace"): NAMESPACES,
    ("", "ConfigMap"): CONFIGMAPS, ("", "Secret"): ("", "secrets"),
    ("", "ServiceAccount"): SERVICEACCOUNTS, ("", "Endpoints"): ENDPOINTS,
    ("discovery.k8s.io", "EndpointSlice"): ENDPOINTSLICES, ("batch", "Job"): ("batch", "jobs"),
}


def random_suffix(n: int = 5) -> str:
    return "".join(_rand.choice(ALPHANUMS) for _ in range(n))


def template_hash(template: dict) -> str:
    """A stable 10-character hash of a pod template, in the style of pod-template-hash.

    Nulls and empty structs are left out (kubectl writes `creationTimestamp: null` and
    `resources: {}` into templates it copies back on `rollout undo`); the real controller compares
    templates semantically, so they must not count.
    """
    digest = hashlib.sha256(json.dumps(_without_nulls(template), sort_keys=True).encode()).digest()
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in digest[:10])


_EMPTY_AS_ABSENT = {"resources", "securityContext"}  # Go structs whose zero value kubectl writes as {}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items()
                if v is not None and not (v == {} and k in _EMPTY_AS_ABSENT)}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def meta(obj: dict) -> dict:
    return obj.setdefault("metadata", {})


def labels_of(obj: dict) -> dict:
    return (obj.get("metadata") or {}).get("labels") or {}


def api_group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def owner_ref(owner: dict, controller: bool = True) -> dict:
    """An ownerReference pointing at owner (blockOwnerDeletion like the real controllers)."""
    return {"apiVersion": owner.get("apiVersion", "v1"), "kind": owner.get("kind", ""),
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": controller, "blockOwnerDeletion": True}


def controller_uid(obj: dict) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def selector_matches(selector: dict | None, labels: dict, *, empty_selects_all: bool = False) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against labels.

    An empty selector matches nothing for workloads (Services, ReplicaSets) and everything where
    the API says so (e.g. a Gateway's allowedRoutes namespace selector): `empty_selects_all`.
    """
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return empty_selects_all or bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def map_matches(selector: dict | None, labels: dict) -> bool:
    """A Service-style selector (plain map); empty matches nothing."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def set_condition(conditions: list[dict], type_: str, status: str, reason: str | None = None,
                  message: str | None = None, now: str | None = None, probe: bool = False) -> list[dict]:
    """Set one condition, keeping lastTransitionTime when the status does not change."""
    now = now or st.now_iso()
    old = next((c for c in conditions if c.get("type") == type_), None)
    cond: dict[str, Any] = {"type": type_, "status": status}
    if probe:
        cond["lastProbeTime"] = None
    cond["lastTransitionTime"] = old["lastTransitionTime"] if old and old.get("status") == status \
        and old.get("lastTransitionTime") else now
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    if old is not None and {k: v for k, v in old.items() if k != "lastUpdateTime"} == \
            {k: v for k, v in cond.items() if k != "lastUpdateTime"}:
        return conditions
    return [c for c in conditions if c.get("type") != type_] + [cond]


def safe(fn: Callable[[], Any]) -> Any:
    """Run a store write; lost races (conflict, already exists, gone) are expected, not errors.

    The next event for the object reconciles again, so nothing is lost by dropping the write.
    """
    try:
        return fn()
    except (st.Conflict, st.NotFound, st.AlreadyExists) as exc:
        LOG.debug("controller write skipped: %s", exc.message)
        return None
    except st.Invalid as exc:
        LOG.warning("controller write rejected: %s", exc.message)
        return None


def write_status(store: Any, gr: GR, obj: dict, status: dict) -> dict | None:
    """Write obj's status when it differs from status; returns the stored object (or None)."""
    if obj.get("status") == status:
        return obj
    # a /status update takes only the status (and the object's name) from what it is given, copied
    new = {**obj, "status": status, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}
    return safe(lambda: store.update(gr, new, subresource="status"))
