"""The scheduler's fit check: a pod binds to the node only when its requests fit what is left.

Like kube-scheduler's NodeResourcesFit filter: the sum of the requests of the pods already bound
(and not finished) plus the new pod's must stay within the node's allocatable cpu, memory and pod
count. A pod that does not fit stays Pending with the real FailedScheduling message, e.g.
`0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No
preemption victims found for incoming pod.`, and is tried again when a pod goes away.
"""

from __future__ import annotations

import re

_SUFFIXES = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
             "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_QUANTITY = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?")


def quantity(value: object) -> float:
    """A Kubernetes quantity ("500m", "2Gi", "1e9", 3) as a number; 0 for what does not parse."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.fullmatch(str(value).strip())
    if not match:
        return 0.0
    return float(match.group(1)) * _SUFFIXES[match.group(2) or ""]


def _container_requests(container: dict) -> dict[str, float]:
    res = container.get("resources") or {}
    # a limit without a request is also the request (the API server defaults it so)
    merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
    return {k: quantity(merged[k]) for k in ("cpu", "memory") if k in merged}


def pod_requests(pod: dict) -> dict[str, float]:
    """What the pod asks of a node: the containers' sum, at least the largest init container's."""
    spec = pod.get("spec") or {}
    total = {"cpu": 0.0, "memory": 0.0}
    for c in spec.get("containers") or []:
        for k, v in _container_requests(c).items():
            total[k] += v
    for c in spec.get("initContainers") or []:
        for k, v in _container_requests(c).items():
            total[k] = max(total[k], v)
    for k, v in (spec.get("overhead") or {}).items():
        if k in total:
            total[k] += quantity(v)
    return total


def occupies(pod: dict, node_name: str) -> bool:
    """A pod bound to the node that still holds its resources (not Succeeded or Failed)."""
    return ((pod.get("spec") or {}).get("nodeName") == node_name
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def misfits(pod: dict, node: dict, bound: list[dict]) -> list[str]:
    """The reasons the pod does not fit on the node ("Insufficient memory", "Too many pods"); [] when it fits."""
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    want = pod_requests(pod)
    used = {"cpu": 0.0, "memory": 0.0}
    for other in bound:
        for k, v in pod_requests(other).items():
            used[k] += v
    reasons = []
    if len(bound) + 1 > quantity(allocatable.get("pods", 110)):
        reasons.append("Too many pods")
    for k in ("cpu", "memory"):
        if want[k] > 0 and used[k] + want[k] > quantity(allocatable.get(k, 0)):
            reasons.append(f"Insufficient {k}")
    return reasons


def failed_scheduling_message(reasons: list[str], nodes: int = 1) -> str:
    """kube-scheduler's FitError text with the preemption post-filter's verdict."""
    shown = ", ".join(sorted(f"{nodes} {r}" for r in reasons))
    return (f"0/{nodes} nodes are available: {shown}. preemption: 0/{nodes} nodes are available: "
            f"{nodes} No preemption victims found for incoming pod.")
