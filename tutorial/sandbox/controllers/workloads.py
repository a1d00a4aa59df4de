"""Deployment and ReplicaSet controllers: Deployment -> ReplicaSets -> Pods, rollouts, status.

Rollouts keep the old ReplicaSet until the new one is ready (like maxUnavailable 0), so a
failing new version (image pull, crash loop) leaves the old pods serving, as on a real cluster.
"""

from __future__ import annotations

import time

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import rollout
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.api.lifecycle import qos_class
from tutorial.sandbox.controllers.runtime import Controller

REVISION = "deployment.kubernetes.io/revision"


def _replicas(obj: dict) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _max_unavailable(deploy: dict, replicas: int) -> int:
    """rollingUpdate.maxUnavailable (default 25%, rounded down) as a pod count."""
    rolling = ((deploy.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    value = rolling.get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) / 100)
    return int(value)


def namespace_active(store, namespace: str | None) -> bool:
    """False when the namespace is gone or terminating: controllers must not create there."""
    if not namespace:
        return True
    ns = store.peek(u.NAMESPACES, None, namespace)
    return ns is not None and not ns["metadata"].get("deletionTimestamp")


class DeploymentController(Controller):
    """Creates one ReplicaSet per pod template and reports rollout status on the Deployment."""

    name = "deployment"
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy
    watches = frozenset({u.DEPLOYMENTS, u.REPLICASETS})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._progress_marks: dict[str, tuple] = {}  # deploy uid -> ((rs, counts), monotonic start)
        self._deadlines: dict[str, float] = {}

    def resync(self) -> None:
        for deploy in self.ctx.store.list(u.DEPLOYMENTS)[0]:
            self.reconcile(deploy)

    def on_event(self, type: str, gr, obj: dict) -> None:
        if gr == u.DEPLOYMENTS:
            if type != "DELETED":
                self.reconcile(self.ctx.store.get(gr, obj["metadata"].get("namespace"),
                                                  obj["metadata"]["name"]))
            return
        owner = u.controller_uid(obj)
        if owner:
            for deploy in self.ctx.store.view(u.DEPLOYMENTS, obj["metadata"].get("namespace")):
                if deploy["metadata"]["uid"] == owner:  # reconcile changes its Deployment: a copy of the owner
                    self.reconcile(st.copy_json(deploy))

    def reconcile(self, deploy: dict | None) -> None:
        if deploy is None or deploy["metadata"].get("deletionTimestamp"):
            return
        ns = deploy["metadata"].get("namespace")
        if not namespace_active(self.ctx.store, ns):
            return
        owned = [st.copy_json(rs) for rs in self.ctx.store.view(u.REPLICASETS, ns)  # copies: _scale changes them
                 if u.controller_uid(rs) == deploy["metadata"]["uid"]]
        thash = u.template_hash((deploy.get("spec") or {}).get("template") or {})
        new = next((rs for rs in owned if u.labels_of(rs).get("pod-template-hash") == thash), None)
        created = new is None
        if created and rollout.is_paused(deploy):
            new = rollout.newest(owned)  # paused: a changed template waits for resume
            if new is not None:
                self._scale(deploy, new, _replicas(deploy))
                self._write_status(deploy, new, owned, False)
            return
        if created:
            new = self._create_rs(deploy, thash, owned)
            if new is None:
                return
            owned.append(new)
        else:
            new = rollout.take_next_revision(self.ctx.store, new, owned)  # undo: an old RS is current again
            owned = [new if rs["metadata"]["uid"] == new["metadata"]["uid"] else rs for rs in owned]
            self._scale(deploy, new, _replicas(deploy))
        self._scale_down_old(deploy, new, owned)
        self._set_revision(deploy, new)
        self._write_status(deploy, new, owned, created)

    def _create_rs(self, deploy: dict, thash: str, owned: list[dict]) -> dict | None:
        spec = deploy.get("spec") or {}
        template = st.copy_json(spec.get("template") or {})
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), "pod-template-hash": thash}
        selector = st.copy_json(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), "pod-template-hash": thash}
        revision = 1 + max((int((rs["metadata"].get("annotations") or {}).get(REVISION, 0))
                            for rs in owned), default=0)
        replicas = _replicas(deploy)
        name = f"{deploy['metadata']['name']}-{thash}"
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": name, "namespace": deploy["metadata"].get("namespace"),
                           "labels": dict(tmeta["labels"]),
                           "annotations": {REVISION: str(revision),
                                           "deployment.kubernetes.io/desired-replicas": str(replicas),
                                           "deployment.kubernetes.io/max-replicas": str(replicas + 1)},
                           "ownerReferences": [u.owner_ref(deploy)]},
              "spec": {"replicas": replicas, "minReadySeconds": spec.get("minReadySeconds", 0),
                       "selector": selector, "template": template}}
        created = u.safe(lambda: self.ctx.store.create(u.REPLICASETS, rs))
        if created is not None:
            self.ctx.record_event(deploy, "Normal", "ScalingReplicaSet",
                                  f"Scaled up replica set {name} from 0 to {replicas}", "deployment-controller")
        return created

    def _scale(self, deploy: dict, rs: dict, replicas: int) -> None:
        old = _replicas(rs)
        if old == replicas:
            return
        new = st.copy_json(rs)
        new["spec"]["replicas"] = replicas
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/desired-replicas"] = \
            str(_replicas(deploy))
        if u.safe(lambda: self.ctx.store.update(u.REPLICASETS, new)) is not None:
            rs["spec"]["replicas"] = replicas
            word = "up" if replicas > old else "down"
            self.ctx.record_event(deploy, "Normal", "ScalingReplicaSet",
                                  f"Scaled {word} replica set {rs['metadata']['name']} from {old} to {replicas}",
                                  "deployment-controller")

    def _scale_down_old(self, deploy: dict, new: dict, owned: list[dict]) -> None:
        """Old ReplicaSets go to 0 once the new one has all its pods ready (at once for Recreate)."""
        ready = int((new.get("status") or {}).get("readyReplicas") or 0)
        recreate = ((deploy.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate"
        if ready < _replicas(deploy) and not recreate:
            return
        for rs in owned:
            if rs["metadata"]["uid"] != new["metadata"]["uid"] and _replicas(rs) > 0:
                self._scale(deploy, rs, 0)

    def _set_revision(self, deploy: dict, new: dict) -> None:
        revision = (new["metadata"].get("annotations") or {}).get(REVISION)
        if revision and (deploy["metadata"].get("annotations") or {}).get(REVISION) != revision:
            updated = st.copy_json(deploy)
            updated["metadata"].setdefault("annotations", {})[REVISION] = revision
            stored = u.safe(lambda: self.ctx.store.update(u.DEPLOYMENTS, updated))
            if stored is not None:
                deploy["metadata"] = stored["metadata"]

    def _write_status(self, deploy: dict, new: dict, owned: list[dict], created: bool) -> None:
        def count(rs: dict, key: str) -> int:
            return int((rs.get("status") or {}).get(key) or 0)
        desired = _replicas(deploy)
        replicas = sum(count(rs, "replicas") for rs in owned)
        updated = count(new, "replicas")
        available = sum(count(rs, "availableReplicas") for rs in owned)
        status = {"observedGeneration": deploy["metadata"].get("generation", 1), "replicas": replicas,
                  "updatedReplicas": updated, "readyReplicas": sum(count(rs, "readyReplicas") for rs in owned),
                  "availableReplicas": available}
        if desired - available > 0:
            status["unavailableReplicas"] = desired - available
        status = {k: v for k, v in status.items() if v or k == "observedGeneration"}
        status["conditions"] = self._conditions(deploy, new, desired, replicas, updated, available, created)
        u.write_status(self.ctx.store, u.DEPLOYMENTS, deploy, status)

    def _conditions(self, deploy, new, desired, replicas, updated, available, created) -> list[dict]:
        conds = list((deploy.get("status") or {}).get("conditions") or [])
        now = st.now_iso()
        if available >= desired - _max_unavailable(deploy, desired):
            conds = u.set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                                    "Deployment has minimum availability.", now)
        else:
            conds = u.set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                                    "Deployment does not have minimum availability.", now)
        complete = updated == desired and replicas == updated and available >= updated
        progress = rollout.PAUSED if rollout.is_paused(deploy) else \
            self._progress(deploy, new, complete, created, (updated, available))
        conds = u.set_condition(conds, "Progressing", *progress, now)
        for cond in conds:
            cond.setdefault("lastUpdateTime", now)
            if cond.get("lastTransitionTime") == now:
                cond["lastUpdateTime"] = now
        order = {"Available": 0, "Progressing": 1}
        return sorted(conds, key=lambda c: order.get(c["type"], 2))


    def _progress(self, deploy: dict, new: dict, complete: bool, created: bool,
                  counts: tuple) -> tuple[str, str, str]:
        """(status, reason, message) of Progressing; False after progressDeadlineSeconds without progress.

        The deadline is the Deployment's own (default 600 s) times settings.progress_deadline_scale,
        measured from the last change of the new ReplicaSet or of the pod counts.
        """
        rs_name, uid = new["metadata"]["name"], deploy["metadata"]["uid"]
        if complete:
            self._progress_marks.pop(uid, None)
            return "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.'
        mark = (rs_name, counts)
        started = self._progress_marks.get(uid)
        if started is None or started[0] != mark:
            started = (mark, time.monotonic())
            self._progress_marks[uid] = started
            seconds = int((deploy.get("spec") or {}).get("progressDeadlineSeconds") or 600)
            deadline = seconds * self.ctx.settings.progress_deadline_scale
            ns, name = deploy["metadata"].get("namespace"), deploy["metadata"]["name"]
            self.ctx.schedule(self.ctx.delay(deadline), lambda: self.reconcile(self.ctx.store.get(
                u.DEPLOYMENTS, ns, name)))
            self._deadlines[uid] = deadline
        if time.monotonic() - started[1] >= self.ctx.delay(self._deadlines.get(uid, 600.0)) * 0.999:
            return "False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.'
        if created:
            return "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'
        return "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'


class ReplicaSetController(Controller):
    """Keeps spec.replicas pods per ReplicaSet and counts ready ones in its status."""

    name = "replicaset"
    reads_only = True  # it only reads ReplicaSets and pods; what it writes it builds anew
    watches = frozenset({u.REPLICASETS, u.PODS})

    def resync(self) -> None:
        for rs in self.ctx.store.list(u.REPLICASETS)[0]:
            self.reconcile(rs)

    def on_event(self, type: str, gr, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        if gr == u.REPLICASETS:  # reconcile only reads the ReplicaSet (stored, not copied)
            if type != "DELETED":
                self.reconcile(self.ctx.store.peek(gr, ns, obj["metadata"]["name"]))
            return
        owner = u.controller_uid(obj)
        if owner:
            for rs in self.ctx.store.view(u.REPLICASETS, ns):
                if rs["metadata"]["uid"] == owner:
                    self.reconcile(rs)

    def reconcile(self, rs: dict | None) -> None:
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        ns = rs["metadata"].get("namespace")
        pods = [p for p in self.ctx.store.view(u.PODS, ns)  # read only: counted, deleted by name
                if u.controller_uid(p) == rs["metadata"]["uid"] and not p["metadata"].get("deletionTimestamp")]
        want = _replicas(rs)
        if len(pods) < want and namespace_active(self.ctx.store, ns):
            for _ in range(want - len(pods)):
                pod = self._create_pod(rs)
                if pod is not None:
                    pods.append(pod)
        elif len(pods) > want:
            pods = self._delete_pods(rs, pods, len(pods) - want)
        self._write_status(rs, pods)

    def _create_pod(self, rs: dict) -> dict | None:
        pod = pod_from_template(rs)
        created = u.safe(lambda: self.ctx.store.create(u.PODS, pod))
        if created is not None:
            self.ctx.record_event(rs, "Normal", "SuccessfulCreate",
                                  f"Created pod: {created['metadata']['name']}", "replicaset-controller")
        return created

    def _delete_pods(self, rs: dict, pods: list[dict], count: int) -> list[dict]:
        # Not-ready and newest pods go first, as the real controller prefers.
        newest_first = sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp", ""), reverse=True)
        ranked = sorted(newest_first, key=is_ready)  # stable: newest stay first within each group
        for pod in ranked[:count]:
            name = pod["metadata"]["name"]
            if u.safe(lambda n=name: self.ctx.store.delete(u.PODS, pod["metadata"]["namespace"], n)):
                self.ctx.record_event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}",
                                      "replicaset-controller")
        return ranked[count:]

    def _write_status(self, rs: dict, pods: list[dict]) -> None:
        ready = sum(1 for p in pods if is_ready(p))
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
                  "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        u.write_status(self.ctx.store, u.REPLICASETS, rs, status)


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def pod_from_template(rs: dict) -> dict:
    """A new Pod for a ReplicaSet, with the defaults the API server would add."""
    template = st.copy_json((rs.get("spec") or {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    name = f"{rs['metadata']['name']}-{u.random_suffix()}"
    spec = template.get("spec") or {}
    default_pod_spec(spec)
    meta = {"name": name, "generateName": f"{rs['metadata']['name']}-",
            "namespace": rs["metadata"].get("namespace"), "labels": tmeta.get("labels") or {},
            "ownerReferences": [u.owner_ref(rs)]}
    if tmeta.get("annotations"):
        meta["annotations"] = tmeta["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": "Pending", "qosClass": qos_class(spec)}}


def default_pod_spec(spec: dict) -> None:
    """Fill in the pod spec defaults kubectl shows in `get -o yaml`."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for container in spec.get("containers") or []:
        image = container.get("image", "")
        latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
