"""Object lifecycle as the API server runs it: status on create, graceful and cascading deletion.

On create the real server gives a Pod `status: {phase: Pending, qosClass: ...}` and a Service
`status: {loadBalancer: {}}` (client code reads them before any controller writes). DELETE honours
DeleteOptions: a scheduled pod gets a grace period (Terminating until the kubelet has stopped it),
`propagationPolicy: Orphan` and `Foreground` leave the object with the `orphan` /
`foregroundDeletion` finalizer for the garbage collector (controllers/cascade.py) to finish.
"""

from __future__ import annotations

from tutorial.sandbox.storage.objects import copy_json

from tutorial.sandbox.storage.store import Store

PODS = ("", "pods")
ORPHAN, FOREGROUND = "orphan", "foregroundDeletion"
DEFAULT_GRACE_SECONDS = 30


# spec defaults the API server fills on create for the workload kinds the sandbox's controllers run
_SPEC_DEFAULTS = {
    ("apps", "statefulsets"): {"replicas": 1, "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                               "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                               "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain",
                                                                        "whenScaled": "Retain"}},
    ("apps", "daemonsets"): {"revisionHistoryLimit": 10, "updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}},
    ("batch", "jobs"): {"parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
                        "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"},
    ("batch", "cronjobs"): {"concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
                            "failedJobsHistoryLimit": 1},
}


def qos_class(spec: dict) -> str:
    """status.qosClass, which the API server sets when a pod is created (and controllers copy)."""
    resources = [c.get("resources") or {} for c in spec.get("containers") or []]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    if all(r.get("limits") and r.get("requests", r.get("limits")) == r.get("limits") for r in resources):
        return "Guaranteed"
    return "Burstable"


def initial_status(gr, obj: dict) -> None:
    """The status (and workload spec defaults) a new object carries before any controller has seen it."""
    if gr == PODS:
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
    elif gr == ("", "services"):
        obj["status"] = {"loadBalancer": {}}
    spec = obj.get("spec")
    if isinstance(spec, dict):
        for key, value in _SPEC_DEFAULTS.get(tuple(gr), {}).items():
            spec.setdefault(key, copy_json(value))


def propagation(opts: dict) -> str:
    """The propagation policy DeleteOptions ask for (orphanDependents is the older spelling)."""
    policy = opts.get("propagationPolicy")
    if policy in ("Orphan", "Foreground", "Background"):
        return policy
    if opts.get("orphanDependents") is True:
        return "Orphan"
    return "Background"


def grace_seconds(obj: dict, opts: dict) -> int:
    """A pod's grace period: the request's, else the pod's terminationGracePeriodSeconds, else 30."""
    asked = opts.get("gracePeriodSeconds")
    if isinstance(asked, int) and asked >= 0:
        return asked
    spec_grace = (obj.get("spec") or {}).get("terminationGracePeriodSeconds")
    return spec_grace if isinstance(spec_grace, int) and spec_grace >= 0 else DEFAULT_GRACE_SECONDS


def delete(store: Store, gr, namespace: str | None, name: str, old: dict, opts: dict) -> dict:
    """DELETE with the request's DeleteOptions; returns the object as the answer shows it."""
    policy = propagation(opts)
    if policy in ("Orphan", "Foreground") and not old["metadata"].get("deletionTimestamp"):
        return store.mark_deleting(gr, namespace, name, finalizer=ORPHAN if policy == "Orphan" else FOREGROUND)
    if gr == PODS and (old.get("spec") or {}).get("nodeName"):
        if grace_seconds(old, opts) > 0:
            if old["metadata"].get("deletionTimestamp"):
                return old  # already terminating: the kubelet finishes it
            return store.mark_deleting(gr, namespace, name, grace_seconds=grace_seconds(old, opts))
    return store.delete(gr, namespace, name)
