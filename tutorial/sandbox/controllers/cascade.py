"""Deletion that finishes later: Orphan and Foreground propagation, and pods terminating gracefully.

The API server (lifecycle.py) leaves an object deleted with `propagationPolicy: Orphan` carrying the
`orphan` finalizer: here its dependents lose their ownerReference to it, then the finalizer goes and
the object with it. `Foreground` leaves `foregroundDeletion`: the dependents are deleted first (in
the foreground too), and the owner goes once none is left. Background deletion stays with the
garbage collector (core.py). A scheduled pod deleted with a grace period shows Terminating until
the simulated kubelet has stopped its containers (a compressed grace period), then it is removed.
"""

from __future__ import annotations

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.api.lifecycle import FOREGROUND, ORPHAN
from tutorial.sandbox.controllers.runtime import Controller

# how long a terminating pod shows Terminating, in pod_start_delay units per second of grace (capped)
_GRACE_SCALE, _GRACE_CAP = 0.1, 3.0


class CascadeController(Controller):
    """Finishes Orphan and Foreground deletions and the graceful termination of pods."""

    name = "cascade"
    watches = None  # every resource: any object may own others
    reads_only = True

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._terminating: set[str] = set()  # pod uids with a kubelet stop scheduled

    def resync(self) -> None:
        self._terminating.clear()
        for gr in self.ctx.store.kinds():
            for obj in self.ctx.store.list(gr)[0]:
                if obj["metadata"].get("deletionTimestamp"):
                    self.on_event("MODIFIED", gr, obj)

    def on_event(self, type: str, gr, obj: dict) -> None:
        meta = obj["metadata"]
        if type == "DELETED":
            self._terminating.discard(meta.get("uid", ""))
            for ref in meta.get("ownerReferences") or []:
                self._finish_foreground(ref, meta.get("namespace"))
            return
        if not meta.get("deletionTimestamp"):
            return
        finalizers = meta.get("finalizers") or []
        if ORPHAN in finalizers:
            self._orphan(gr, obj)
        elif FOREGROUND in finalizers:
            self._foreground(gr, obj)
        elif tuple(gr) == u.PODS:
            self._stop_pod(obj)  # other finalizers keep it Terminating until their owners remove them

    # ---- Orphan ----
    def _orphan(self, gr, owner: dict) -> None:
        uid = owner["metadata"]["uid"]
        for dep_gr, dep in self._dependents(owner):
            changed = st.copy_json(dep)
            refs = [r for r in changed["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                changed["metadata"]["ownerReferences"] = refs
            else:
                changed["metadata"].pop("ownerReferences", None)
            changed["metadata"].pop("resourceVersion", None)
            u.safe(lambda g=dep_gr, c=changed: self.ctx.store.update(g, c))
        self._drop_finalizer(gr, owner, ORPHAN)

    # ---- Foreground ----
    def _foreground(self, gr, owner: dict) -> None:
        dependents = self._dependents(owner)
        if not dependents:
            self._drop_finalizer(gr, owner, FOREGROUND)
            return
        for dep_gr, dep in dependents:
            if not dep["metadata"].get("deletionTimestamp"):
                ns, name = dep["metadata"].get("namespace"), dep["metadata"]["name"]
                u.safe(lambda g=dep_gr, n=ns, m=name: self.ctx.store.mark_deleting(g, n, m, finalizer=FOREGROUND))

    def _finish_foreground(self, ref: dict, namespace: str | None) -> None:
        """A dependent went away: its owner in foreground deletion may now go too."""
        for gr in self._owner_kinds(ref):
            owner = self.ctx.store.peek(gr, namespace, ref.get("name", "")) or \
                self.ctx.store.peek(gr, None, ref.get("name", ""))
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid") and \
                    FOREGROUND in (owner["metadata"].get("finalizers") or []):
                self._foreground(gr, owner)

    # ---- pods ----
    def _stop_pod(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self._terminating:
            return
        self._terminating.add(uid)
        for c in (pod.get("spec") or {}).get("containers") or []:
            self.ctx.record_event(pod, "Normal", "Killing", f"Stopping container {c.get('name')}", "kubelet",
                                  field_path=f"spec.containers{{{c.get('name')}}}")
        grace = int(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
        wait = min(grace * _GRACE_SCALE, _GRACE_CAP) * self.ctx.settings.pod_start_delay
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        self.ctx.schedule(self.ctx.delay(wait), lambda: self._remove_pod(ns, name, uid))

    def _remove_pod(self, ns: str | None, name: str, uid: str) -> None:
        pod = self.ctx.store.peek(u.PODS, ns, name)
        if pod is not None and pod["metadata"].get("uid") == uid:
            u.safe(lambda: self.ctx.store.delete(u.PODS, ns, name))  # with finalizers left: stays Terminating

    # ---- helpers ----
    def _dependents(self, owner: dict) -> list[tuple]:
        uid, ns = owner["metadata"]["uid"], owner["metadata"].get("namespace")
        found = []
        for gr in self.ctx.store.kinds():
            for dep in self.ctx.store.list(gr, ns)[0] if ns else self.ctx.store.list(gr)[0]:
                if any(r.get("uid") == uid for r in dep["metadata"].get("ownerReferences") or []):
                    found.append((gr, dep))
        return found

    def _owner_kinds(self, ref: dict) -> list:
        group, kind = u.api_group(ref.get("apiVersion", "")), ref.get("kind", "")
        if (group, kind) in u.KIND_TO_GR:
            return [u.KIND_TO_GR[(group, kind)]]
        registry = self.ctx.registry
        rtype = registry.by_kind(group, kind) if registry is not None else None
        return [(rtype.group, rtype.plural)] if rtype is not None else []

    def _drop_finalizer(self, gr, obj: dict, finalizer: str) -> None:
        current = self.ctx.store.get(gr, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if current is None or finalizer not in (current["metadata"].get("finalizers") or []):
            return
        current["metadata"]["finalizers"] = [f for f in current["metadata"]["finalizers"] if f != finalizer]
        current["metadata"].pop("resourceVersion", None)
        u.safe(lambda: self.ctx.store.update(gr, current))
