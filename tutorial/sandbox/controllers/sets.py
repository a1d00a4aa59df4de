"""StatefulSet and DaemonSet controllers of the one-node sandbox.

StatefulSet: pods `<name>-0 .. <name>-(N-1)` created in order, each once the one before is Ready
(OrderedReady; Parallel creates all at once), removed from the highest ordinal down, and replaced
highest first after a template change (RollingUpdate). DaemonSet: one pod on the node. Both write
the status fields kubectl reads (`rollout status`, READY columns) and label pods with
`controller-revision-hash`.
"""

from __future__ import annotations

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.api.lifecycle import qos_class
from tutorial.sandbox.controllers.workloads import default_pod_spec, is_ready, namespace_active
from tutorial.sandbox.controllers.runtime import Controller

STATEFULSETS, DAEMONSETS = ("apps", "statefulsets"), ("apps", "daemonsets")
REVISION_LABEL = "controller-revision-hash"


def _revision(owner: dict) -> str:
    return f"{owner['metadata']['name']}-{u.template_hash((owner.get('spec') or {}).get('template') or {})}"


def _new_pod(owner: dict, name: str, extra_labels: dict, spec_extra: dict) -> dict:
    template = st.copy_json((owner.get("spec") or {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    spec = {**(template.get("spec") or {}), **spec_extra}
    default_pod_spec(spec)
    meta = {"name": name, "namespace": owner["metadata"].get("namespace"),
            "labels": {**(tmeta.get("labels") or {}), REVISION_LABEL: _revision(owner), **extra_labels},
            "ownerReferences": [u.owner_ref(owner)]}
    if tmeta.get("annotations"):
        meta["annotations"] = tmeta["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending", "qosClass": qos_class(spec)}}


class _OwnedPods(Controller):
    """Shared plumbing: reconcile the owner of a pod event; list an owner's live pods."""

    owner_gr: tuple = ()
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy

    def resync(self) -> None:
        for owner in self.ctx.store.list(self.owner_gr)[0]:
            self.reconcile(owner)

    def on_event(self, type: str, gr, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        if tuple(gr) == self.owner_gr:
            if type != "DELETED":
                self.reconcile(self.ctx.store.get(gr, ns, obj["metadata"]["name"]))
            return
        owner = u.controller_uid(obj)
        if owner:
            for candidate in self.ctx.store.list(self.owner_gr, ns)[0]:
                if candidate["metadata"]["uid"] == owner:
                    self.reconcile(candidate)

    def owned_pods(self, owner: dict) -> list[dict]:
        return [p for p in self.ctx.store.list(u.PODS, owner["metadata"].get("namespace"))[0]
                if u.controller_uid(p) == owner["metadata"]["uid"]]

    def create(self, owner: dict, pod: dict) -> dict | None:
        created = u.safe(lambda: self.ctx.store.create(u.PODS, pod))
        if created is not None:
            kind = owner.get("kind", "")
            verb = f"create Pod {pod['metadata']['name']} in {kind} {owner['metadata']['name']} successful" \
                if kind == "StatefulSet" else f"Created pod: {pod['metadata']['name']}"
            self.ctx.record_event(owner, "Normal", "SuccessfulCreate", verb,
                                  "statefulset-controller" if kind == "StatefulSet" else "daemonset-controller")
        return created

    def remove(self, pod: dict) -> None:
        u.safe(lambda: self.ctx.store.delete(u.PODS, pod["metadata"].get("namespace"), pod["metadata"]["name"]))

    def reconcile(self, owner: dict | None) -> None:
        raise NotImplementedError


class StatefulSetController(_OwnedPods):
    """Ordered, stable pods per StatefulSet; status with current/update revisions."""

    name = "statefulset"
    watches = frozenset({STATEFULSETS, u.PODS})
    owner_gr = STATEFULSETS

    def reconcile(self, sts: dict | None) -> None:
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        ns, name = sts["metadata"].get("namespace"), sts["metadata"]["name"]
        spec = sts.get("spec") or {}
        want = 1 if spec.get("replicas") is None else int(spec["replicas"])
        pods = {p["metadata"]["name"]: p for p in self.owned_pods(sts) if not p["metadata"].get("deletionTimestamp")}
        revision, parallel = _revision(sts), spec.get("podManagementPolicy") == "Parallel"
        if namespace_active(self.ctx.store, ns):
            for i in range(want):
                pod_name = f"{name}-{i}"
                if pod_name not in pods:
                    extra = {"statefulset.kubernetes.io/pod-name": pod_name, "apps.kubernetes.io/pod-index": str(i)}
                    created = self.create(sts, _new_pod(sts, pod_name, extra, {"hostname": pod_name,
                                                                                "subdomain": spec.get("serviceName", "")}))
                    if created is not None:
                        pods[pod_name] = created
                    if not parallel:
                        break  # OrderedReady: the next ordinal waits for this one
                elif not parallel and not is_ready(pods[pod_name]):
                    break
            self._trim_and_roll(sts, pods, want, revision)
        self._write_status(sts, list(pods.values()), revision, want)

    def _trim_and_roll(self, sts: dict, pods: dict, want: int, revision: str) -> None:
        ordinal = lambda p: int(p["metadata"]["name"].rsplit("-", 1)[1])  # noqa: E731
        extra = sorted((p for p in pods.values() if ordinal(p) >= want), key=ordinal, reverse=True)
        if extra:
            self.remove(extra[0])  # one at a time, highest ordinal first
            return
        if all(is_ready(p) for p in pods.values()) and len(pods) == want:
            stale = sorted((p for p in pods.values() if u.labels_of(p).get(REVISION_LABEL) != revision),
                           key=ordinal, reverse=True)
            if stale:
                self.remove(stale[0])  # RollingUpdate: replaced highest ordinal first

    def _write_status(self, sts: dict, pods: list[dict], revision: str, want: int) -> None:
        old = sts.get("status") or {}
        updated = sum(1 for p in pods if u.labels_of(p).get(REVISION_LABEL) == revision)
        ready = sum(1 for p in pods if is_ready(p))
        current = old.get("currentRevision") if updated < want else revision
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
                  "readyReplicas": ready, "currentReplicas": len(pods) if current == revision else len(pods) - updated,
                  "updatedReplicas": updated, "availableReplicas": ready,
                  "currentRevision": current or revision, "updateRevision": revision, "collisionCount": 0}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "availableReplicas", "collisionCount")}
        u.write_status(self.ctx.store, STATEFULSETS, sts, status)


class DaemonSetController(_OwnedPods):
    """One pod per node (the sandbox has one) per DaemonSet; replaced when the template changes."""

    name = "daemonset"
    watches = frozenset({DAEMONSETS, u.PODS})
    owner_gr = DAEMONSETS

    def reconcile(self, ds: dict | None) -> None:
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        node = self.ctx.settings.node_name
        revision = _revision(ds)
        pods = [p for p in self.owned_pods(ds) if not p["metadata"].get("deletionTimestamp")]
        for stale in [p for p in pods if u.labels_of(p).get(REVISION_LABEL) != revision]:
            self.remove(stale)
            pods.remove(stale)
        if not pods and namespace_active(self.ctx.store, ds["metadata"].get("namespace")):
            affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
            tolerations = [{"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": e}
                           for t, e in (("not-ready", "NoExecute"), ("unreachable", "NoExecute"),
                                        ("disk-pressure", "NoSchedule"), ("memory-pressure", "NoSchedule"),
                                        ("pid-pressure", "NoSchedule"), ("unschedulable", "NoSchedule"))]
            name = f"{ds['metadata']['name']}-{u.random_suffix()}"
            created = self.create(ds, _new_pod(ds, name, {"pod-template-generation": str(
                ds["metadata"].get("generation", 1))}, {"affinity": affinity, "tolerations": tolerations}))
            if created is not None:
                pods.append(created)
        ready = sum(1 for p in pods if is_ready(p))
        status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": 1, "numberMisscheduled": 0,
                  "numberReady": ready, "numberAvailable": ready, "updatedNumberScheduled": len(pods),
                  "observedGeneration": ds["metadata"].get("generation", 1)}
        if ready < 1:
            status["numberUnavailable"] = 1
        status = {k: v for k, v in status.items() if v or k in ("numberMisscheduled", "numberReady")}
        u.write_status(self.ctx.store, DAEMONSETS, ds, status)
