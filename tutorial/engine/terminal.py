"""Which cluster states are settled wrong (will not change without the learner), as pure
predicates over objects and the data in explain_rules/terminal.yaml (each entry with its source).
settle.Watch applies them while a check waits. Nothing here talks to the cluster.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

_TERMINAL_LOCK = threading.Lock()


def terminal_data() -> dict[str, Any]:
    """explain_rules/terminal.yaml, parsed once per process, even when many threads ask at once
    (a fleet's clusters check concurrently; lru_cache alone lets each of them parse it)."""
    with _TERMINAL_LOCK:
        return _parse_terminal()


@lru_cache(maxsize=1)
def _parse_terminal() -> dict[str, Any]:
    import yaml

    path = Path(__file__).resolve().parent / "explain_rules" / "terminal.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _age(stamp: str | None) -> float | None:
    try:
        when = datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
    return (datetime.now(timezone.utc) - when).total_seconds()


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _conds(holder) -> list[dict]:
    st = holder.get("status") if isinstance(holder, dict) else None
    found = (st or {}).get("conditions") if isinstance(st, dict) else (holder or {}).get("conditions")
    return [c for c in _list(found) if isinstance(c, dict)]


def generation_current(obj: dict, holder: dict | None = None) -> bool:
    """The controller has seen the latest spec (observedGeneration, where it is written, is not behind)."""
    gen = _meta(obj).get("generation")
    seen = [c.get("observedGeneration") for c in _conds(holder or obj) if c.get("observedGeneration") is not None]
    if isinstance(holder, dict) and holder.get("observedGeneration") is not None:
        seen.append(holder["observedGeneration"])
    st = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    if st.get("observedGeneration") is not None:
        seen.append(st["observedGeneration"])
    try:
        return gen is None or not seen or min(int(s) for s in seen) >= int(gen)
    except (TypeError, ValueError):
        return True


def terminal_condition(kind: str, cond: dict) -> dict | None:
    """The terminal.yaml entry that makes this condition settled, if any."""
    for entry in terminal_data().get("conditions") or []:
        if kind not in entry.get("kinds", []) or cond.get("type") != entry.get("type"):
            continue
        if str(cond.get("status")) != str(entry.get("status", "False")) or cond.get("reason") not in entry["reasons"]:
            continue
        needle = entry.get("message_contains")
        if needle and needle not in str(cond.get("message") or ""):
            continue
        return entry
    return None


def _cond_text(where: str, cond: dict) -> str:
    text = f"{where}: {cond.get('type')} {cond.get('status')}"
    return text + (f" ({cond['reason']})" if cond.get("reason") else "")


def _where(obj: dict, kind: str | None = None) -> str:
    meta = _meta(obj)
    return f"{kind or obj.get('kind') or 'object'} {meta.get('name', '?')}"


def condition_holders(obj: dict) -> list[tuple[str, str, dict]]:
    """(kind for terminal.yaml, where, holder of conditions) for an object and its sub-statuses."""
    kind = obj.get("kind") or ""
    out = [(kind, _where(obj), obj)]
    st = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    for l in _list(st.get("listeners")):
        if isinstance(l, dict):
            out.append(("Listener", f"{_where(obj)} listener {l.get('name')}", l))
    for p in _list(st.get("parents")):
        if isinstance(p, dict):
            ref = p.get("parentRef") if isinstance(p.get("parentRef"), dict) else {}
            out.append((kind, f"{_where(obj)} on Gateway {ref.get('name')}", p))
    return out


def pod_terminal(pod: dict) -> str | None:
    """Why a pod will not become ready by itself (a waiting reason or Unschedulable), or None."""
    if not isinstance(pod, dict) or _meta(pod).get("deletionTimestamp"):
        return None
    st = pod.get("status") if isinstance(pod.get("status"), dict) else {}
    waiting = set(terminal_data().get("pod_waiting", {}).get("reasons") or [])
    for cs in _list(st.get("initContainerStatuses")) + _list(st.get("containerStatuses")):
        state = (cs or {}).get("state") if isinstance(cs, dict) else None
        reason = ((state or {}).get("waiting") or {}).get("reason") if isinstance(state, dict) else None
        if reason in waiting:
            return f"pod {_meta(pod).get('name')}: {reason}"
    for cond in _conds(pod):
        if terminal_condition("Pod", cond):
            return f"pod {_meta(pod).get('name')}: Pending, {cond.get('reason')}" + \
                   (f" ({cond['message']})" if cond.get("message") else "")
    return None


def _owner(pod: dict) -> str:
    refs = [r for r in _list(_meta(pod).get("ownerReferences")) if isinstance(r, dict)]
    return str(refs[0].get("name") or "") if refs else ""


def superseded(pod: dict, pods: list[dict]) -> bool:
    """A newer pod of the same workload from another ReplicaSet exists: a rollout replaces this one."""
    owner = _owner(pod)
    workload = owner.rsplit("-", 1)[0] if owner else ""
    created = str(_meta(pod).get("creationTimestamp") or "")
    return bool(workload) and any(
        _owner(other) != owner and _owner(other).rsplit("-", 1)[0] == workload
        and str(_meta(other).get("creationTimestamp") or "") >= created for other in pods if other is not pod)


def rolling_out(deployments: list[dict]) -> bool:
    """A judged Deployment has a change its controller has not finished acting on."""
    for d in deployments:
        st = d.get("status") if isinstance(d.get("status"), dict) else {}
        gen, seen = _meta(d).get("generation"), st.get("observedGeneration")
        if (gen is not None and seen is not None and seen < gen) or st.get("replicas", 0) > st.get("updatedReplicas", 0):
            return True
    return False


class HttpRepeat:
    """Counts consecutive identical error answers through a Gateway that has routes attached."""

    def __init__(self):
        self.last, self.count = None, 0

    def settled(self, status: int | None, gateway: dict | None) -> str | None:
        """Why the answer is settled (the same 404/500/503 on enough probes), else None."""
        spec = terminal_data().get("http") or {}
        if status not in (spec.get("statuses") or []) or not routes_attached(gateway):
            self.last, self.count = None, 0
            return None
        self.count = self.count + 1 if status == self.last else 1
        self.last = status
        probes = int(spec.get("probes", 3))
        return f"HTTP {status} on {self.count} probes in a row" if self.count >= probes else None


def routes_attached(gateway: dict | None) -> bool:
    st = (gateway or {}).get("status") if isinstance(gateway, dict) else None
    listeners = _list((st or {}).get("listeners")) if isinstance(st, dict) else []
    return any(isinstance(l, dict) and isinstance(l.get("attachedRoutes"), int) and l["attachedRoutes"] > 0
               for l in listeners)


def _pending(obj: dict) -> bool:
    """Accepted not decided by any controller yet (absent, or Unknown)."""
    cond = next((c for c in _conds(obj) if c.get("type") == "Accepted"), None)
    return cond is None or str(cond.get("status")) == "Unknown"


def _is_problem(cond: dict) -> bool:
    negative = cond.get("type") in ("Conflicted", "OverlappingTLSConfig", "PartiallyInvalid", "ReplicaFailure")
    return (str(cond.get("status")) == "True") == negative


def observation_line(text: str, since: float, now: float | None = None) -> str:
    """The live line a waiting check shows: what it sees, and for how long."""
    seconds = max(0, int((now if now is not None else time.monotonic()) - since))
    return f"{text}, for {seconds} s" if text else f"waiting, {seconds} s"
