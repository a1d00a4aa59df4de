"""Pod lifecycle: the scheduler and kubelet of the one sandbox node.

A pod goes Pending -> ContainerCreating -> Running/Ready in a few timed steps. Faults change the
path: image pulls fail (ErrImagePull <-> ImagePullBackOff), containers crash
(CrashLoopBackOff), istiod cannot be scheduled (Pending, Unschedulable). Each step re-reads the
pod and decides again, so faults switched at run time take effect at the next step or resync.
"""

from __future__ import annotations

from typing import Callable

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.storage.selectors import parse_label_selector
from tutorial.sandbox.controllers import podstatus as ps
from tutorial.sandbox.controllers import scheduler
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.kubelet import runs
from tutorial.sandbox.controllers.runtime import Controller

LOG_ANNOTATION = "sandbox.gateway-tutorial/log"
FREE_MEMORY_MI = 1024  # free memory on the simulated node under the istiod-unschedulable fault


ISTIOD_DEFAULT_MI = 2048  # what the istiod chart asks for when nothing says otherwise


def _memory_mi(pod: dict) -> float:
    """The pod's summed container memory requests in MiB (Ki/Mi/Gi and plain bytes); a pod that
    states none counts as istiod's chart default, so only an explicit, smaller request fits."""
    total, stated = 0.0, False
    for c in (pod.get("spec") or {}).get("containers") or []:
        memory = ((c.get("resources") or {}).get("requests") or {}).get("memory")
        stated = stated or memory is not None
        raw = str(memory or "0")
        for suffix, factor in (("Gi", 1024.0), ("Mi", 1.0), ("Ki", 1 / 1024), ("G", 1000 ** 3 / 1024 ** 2),
                               ("M", 1000 ** 2 / 1024 ** 2)):
            if raw.endswith(suffix):
                raw, scale = raw[:-len(suffix)], factor
                break
        else:
            scale = 1 / 1024 ** 2
        try:
            total += float(raw) * scale
        except ValueError:
            pass
    return total if stated else float(ISTIOD_DEFAULT_MI)


UNSCHEDULABLE_MESSAGE = ("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are "
                         "available: 1 No preemption victims found for incoming pod.")


class PodLifecycleController(Controller):
    """Schedules pods onto the sandbox node and runs their containers (simulated kubelet)."""

    name = "pod-lifecycle"
    watches = frozenset({u.PODS})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._pending: dict[str, tuple[str, int]] = {}  # pod uid -> (step, token)
        self._tokens = 0
        self._backoffs: dict[str, int] = {}
        self._seen: dict[str, int] = {}  # pod uid -> newest resourceVersion seen
        self._ips = ps.IpPool("10.244", start=2)

    def resync(self) -> None:
        pods = self.ctx.store.list(u.PODS)[0]
        self._ips.reserve(p.get("status", {}).get("podIP") for p in pods)
        self._pending.clear()  # faults may have changed: plan every pod again
        for pod in pods:
            self.kick(pod)

    def on_event(self, type: str, gr, obj: dict) -> None:
        uid = obj["metadata"].get("uid", "")
        if type == "DELETED":
            self._pending.pop(uid, None)
            self._backoffs.pop(uid, None)
            self._seen.pop(uid, None)
            self._ips.release((obj.get("status") or {}).get("podIP"))
            self._retry_unschedulable()  # room was freed: pending pods may fit now
            return
        self.kick(obj)
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        for pod in self.ctx.store.list(u.PODS)[0]:
            if ps.is_unschedulable(pod):
                self.kick(pod)

    # ---- planning ----
    def kick(self, pod: dict) -> None:
        """Plan the pod's next step and schedule it unless that step is already scheduled."""
        uid = pod["metadata"]["uid"]
        rv = int(pod["metadata"].get("resourceVersion") or 0)
        if rv < self._seen.get(uid, 0):
            return  # a stale event (queued before our own later write): the newer one decides
        self._seen[uid] = rv
        plan = self.plan(pod)
        if plan is None:
            self._pending.pop(uid, None)
            return
        step, delay = plan
        if uid in self._pending and self._pending[uid][0] == step:
            return
        self._tokens += 1
        token = self._tokens
        self._pending[uid] = (step, token)
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        self.ctx.schedule(self.ctx.delay(delay), lambda: self._run(uid, ns, name, step, token))

    def plan(self, pod: dict) -> tuple[str, float] | None:
        """(step, delay) for the pod's next transition, or None when it is settled."""
        if pod["metadata"].get("deletionTimestamp"):
            return None
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed") or not ps.containers(pod):
            return None
        s = self.ctx.settings
        third = s.pod_start_delay / 3
        if not (pod.get("spec") or {}).get("nodeName"):
            if self._unschedulable(pod):
                return None if ps.is_unschedulable(pod) else ("unschedulable", 0.0)
            return ("bind", third)
        state = ps.container_state(pod)
        pull_fails = self._pull_fails(pod)
        if state in ("none", "ContainerCreating"):
            return ("pull-failed", 2 * third) if pull_fails else ("start", 2 * third + s.image_pull_delay)
        if state == "ErrImagePull":
            return ("pull-backoff", s.error_delay) if pull_fails else ("start", s.image_pull_delay)
        if state == "ImagePullBackOff":
            return ("pull-failed", self._backoff(pod)) if pull_fails else ("start", s.image_pull_delay)
        crash = self._crashes(pod)
        if state == "CrashLoopBackOff":
            return ("start", self._backoff(pod) if crash else s.error_delay)
        if state == "running":
            if crash:  # restartPolicy Never: the pod fails for good instead of restarting
                never = (pod.get("spec") or {}).get("restartPolicy") == "Never"
                return ("fail" if never else "crash", s.error_delay)
            if runs.finishes(pod):  # a tool's command ran and exited: 0 completes, else fails or restarts
                if runs.exit_code(pod) == 0:
                    return ("complete", s.pod_start_delay)
                never = (pod.get("spec") or {}).get("restartPolicy") == "Never"
                return ("fail" if never else "crash", s.pod_start_delay)
            return None if ps.all_ready(pod) else ("start", 0.0)
        return None

    def _backoff(self, pod: dict) -> float:
        """Growing back-off (capped), like the kubelet's 10s, 20s, 40s ... 5m, but faster."""
        n = self._backoffs.get(pod["metadata"]["uid"], 1)
        return self.ctx.settings.backoff_delay * min(2 ** max(n - 1, 0), 16)

    def _unschedulable(self, pod: dict) -> bool:
        return self._why_unschedulable(pod) is not None

    def _why_unschedulable(self, pod: dict) -> str | None:
        """The FailedScheduling message when the pod cannot bind now (fault or requests), else None."""
        if (self.ctx.faults.active("istiod-unschedulable") is not None
                and pod["metadata"].get("namespace") == "istio-system"
                and u.labels_of(pod).get("app") == "istiod"
                and _memory_mi(pod) > FREE_MEMORY_MI):
            # the fault: a node with less memory free than istiod's default 2 GiB request; a request
            # of at most FREE_MEMORY_MI (the fix the explanation offers) fits
            return UNSCHEDULABLE_MESSAGE
        node_name = self.ctx.settings.node_name
        node = self.ctx.store.peek(u.NODES, None, node_name)
        if node is None:
            return None  # no node object yet (bootstrap): nothing to measure against
        bound = [p for p in self.ctx.store.view(u.PODS) if scheduler.occupies(p, node_name)]  # read only
        reasons = scheduler.misfits(pod, node, bound)
        return scheduler.failed_scheduling_message(reasons) if reasons else None

    def _pull_fails(self, pod: dict) -> bool:
        return any(ps.image_never_pulls(c.get("image", "")) or self.ctx.faults.image_fails(c.get("image", ""))
                   for c in ps.containers(pod))

    def _crashes(self, pod: dict) -> bool:
        fault = self.ctx.faults.active("crashloop")
        if not fault:
            return False
        if pod["metadata"].get("namespace") in ("kube-system",):
            return False
        return parse_label_selector(fault["selector"]).matches_labels(u.labels_of(pod))

    # ---- steps ----
    def _run(self, uid: str, ns: str | None, name: str, step: str, token: int) -> None:
        if self._pending.get(uid, ("", -1))[1] != token:
            return  # replanned since: this timer is stale
        self._pending.pop(uid, None)
        pod = self.ctx.store.get(u.PODS, ns, name)
        if pod is None or pod["metadata"]["uid"] != uid:
            return
        if (self.plan(pod) or ("",))[0] != step:
            self.kick(pod)  # the pod changed meanwhile (or a fault flipped): plan afresh
            return
        steps: dict[str, Callable[[dict], dict | None]] = {
            "unschedulable": self._mark_unschedulable, "bind": self._bind,
            "pull-failed": self._pull_failed, "pull-backoff": self._pull_backoff,
            "start": self._start, "crash": self._crash, "complete": self._complete, "fail": self._fail}
        result = steps[step](pod)
        if result is not None:
            self.kick(result)

    def _mark_unschedulable(self, pod: dict) -> dict | None:
        message = self._why_unschedulable(pod) or UNSCHEDULABLE_MESSAGE
        status = ps.unschedulable_status(pod, message)
        stored = u.write_status(self.ctx.store, u.PODS, pod, status)
        self.ctx.record_event(pod, "Warning", "FailedScheduling", message, "default-scheduler")
        return stored

    def _bind(self, pod: dict) -> dict | None:
        node = self.ctx.settings.node_name
        bound = st.copy_json(pod)
        bound["spec"]["nodeName"] = node
        stored = u.safe(lambda: self.ctx.store.update(u.PODS, bound))
        if stored is None:
            return None
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        self.ctx.record_event(stored, "Normal", "Scheduled",
                              f"Successfully assigned {ns}/{name} to {node}", "default-scheduler")
        return u.write_status(self.ctx.store, u.PODS, stored, ps.creating_status(stored, ps.NODE_IP))

    def _pull_failed(self, pod: dict) -> dict | None:
        for c in ps.containers(pod):
            image = c.get("image", "")
            if ps.image_never_pulls(image) or self.ctx.faults.image_fails(image):
                error = ps.pull_error(image)
                self._kubelet_event(pod, c, "Normal", "Pulling", f'Pulling image "{image}"')
                self._kubelet_event(pod, c, "Warning", "Failed", f'Failed to pull image "{image}": {error}')
                self._kubelet_event(pod, c, "Warning", "Failed", "Error: ErrImagePull")
        status = ps.waiting_status(pod, lambda c: self._pull_reason(c, "ErrImagePull"))
        return u.write_status(self.ctx.store, u.PODS, pod, status)

    def _pull_backoff(self, pod: dict) -> dict | None:
        uid = pod["metadata"]["uid"]
        self._backoffs[uid] = self._backoffs.get(uid, 0) + 1
        for c in ps.containers(pod):
            image = c.get("image", "")
            if ps.image_never_pulls(image) or self.ctx.faults.image_fails(image):
                self._kubelet_event(pod, c, "Normal", "BackOff", f'Back-off pulling image "{image}"')
                self._kubelet_event(pod, c, "Warning", "Failed", "Error: ImagePullBackOff")
        status = ps.waiting_status(pod, lambda c: self._pull_reason(c, "ImagePullBackOff"))
        return u.write_status(self.ctx.store, u.PODS, pod, status)

    def _pull_reason(self, container: dict, reason: str) -> tuple[str, str] | None:
        image = container.get("image", "")
        if not (ps.image_never_pulls(image) or self.ctx.faults.image_fails(image)):
            return None
        if reason == "ErrImagePull":
            return reason, ps.pull_error(image)
        return reason, f'Back-off pulling image "{image}": ErrImagePull: {ps.pull_error(image)}'

    def _start(self, pod: dict) -> dict | None:
        """Pull (if needed), create and start every container; Ready unless it will crash."""
        first_start = ps.container_state(pod) in ("none", "ContainerCreating", "ErrImagePull",
                                                  "ImagePullBackOff")
        for c in ps.containers(pod):
            if first_start:
                image = c.get("image", "")
                self._kubelet_event(pod, c, "Normal", "Pulling", f'Pulling image "{image}"')
                self._kubelet_event(pod, c, "Normal", "Pulled", ps.pulled_message(image))
            self._kubelet_event(pod, c, "Normal", "Created", f"Created container: {c.get('name')}")
            self._kubelet_event(pod, c, "Normal", "Started", f"Started container {c.get('name')}")
        ip = (pod.get("status") or {}).get("podIP") or self._ips.allocate()
        status = ps.running_status(pod, ip, ps.NODE_IP, ready=not self._crashes(pod))
        return u.write_status(self.ctx.store, u.PODS, pod, status)

    def _complete(self, pod: dict) -> dict | None:
        stored = u.write_status(self.ctx.store, u.PODS, pod, ps.completed_status(pod))
        self._retry_unschedulable()  # a finished pod frees its requests
        return stored

    def _fail(self, pod: dict) -> dict | None:
        code = runs.exit_code(pod) or 1
        stored = u.write_status(self.ctx.store, u.PODS, pod, ps.completed_status(pod, exit_code=code))
        self._retry_unschedulable()  # a failed pod frees its requests
        return stored

    def _crash(self, pod: dict) -> dict | None:
        uid = pod["metadata"]["uid"]
        self._backoffs[uid] = self._backoffs.get(uid, 0) + 1
        ns, name = pod["metadata"].get("namespace"), pod["metadata"]["name"]
        for c in ps.containers(pod):
            self._kubelet_event(pod, c, "Warning", "BackOff",
                                f"Back-off restarting failed container {c.get('name')} in pod "
                                f"{name}_{ns}({uid})")
        return u.write_status(self.ctx.store, u.PODS, pod, ps.crashloop_status(pod))

    def _kubelet_event(self, pod: dict, container: dict, type_: str, reason: str, message: str) -> None:
        self.ctx.record_event(pod, type_, reason, message, "kubelet",
                              field_path=f"spec.containers{{{container.get('name')}}}")
