"""Rollout semantics of the Deployment controller: pause, resume and undo.

A paused Deployment (`kubectl rollout pause`) gets no new ReplicaSet for a changed template and
reports Progressing Unknown/DeploymentPaused; `resume` rolls the change out. `kubectl rollout undo`
writes an earlier ReplicaSet's template back into the Deployment; the controller then finds that
ReplicaSet by its pod-template-hash, scales it up and gives it the next revision number, as the
real controller does (so a second undo goes back again).
"""

from __future__ import annotations

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
PAUSED = ("Unknown", "DeploymentPaused", "Deployment is paused")


def is_paused(deploy: dict) -> bool:
    return bool((deploy.get("spec") or {}).get("paused"))


def revision_of(rs: dict) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def newest(owned: list[dict]) -> dict | None:
    """The ReplicaSet with the highest revision (what a paused Deployment keeps running)."""
    return max(owned, key=revision_of, default=None)


def take_next_revision(store, rs: dict, owned: list[dict]) -> dict:
    """An older ReplicaSet that becomes current again gets max revision + 1 (its old one goes to history)."""
    top = max((revision_of(o) for o in owned), default=0)
    mine = revision_of(rs)
    if mine >= top:
        return rs
    updated = st.copy_json(rs)
    annotations = updated["metadata"].setdefault("annotations", {})
    history = [h for h in (annotations.get(REVISION_HISTORY) or "").split(",") if h]
    annotations[REVISION_HISTORY] = ",".join(history + [str(mine)])
    annotations[REVISION] = str(top + 1)
    updated["metadata"].pop("resourceVersion", None)
    stored = u.safe(lambda: store.update(u.REPLICASETS, updated))
    return stored if stored is not None else rs
