"""Job controller: pods run to completion, completions counted, Complete / Failed conditions written.

As Kubernetes' job controller: the Job gets its generated selector and pod labels
(batch.kubernetes.io/controller-uid, job-name), up to `parallelism` pods run at once until
`completions` have Succeeded (then SuccessCriteriaMet and Complete), and more than `backoffLimit`
failed pods end it with Failed/BackoffLimitExceeded. CronJobs create Jobs (cronjobs.py).
"""

from __future__ import annotations

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.api.lifecycle import qos_class
from tutorial.sandbox.controllers.workloads import default_pod_spec, namespace_active
from tutorial.sandbox.controllers.runtime import Controller

JOBS = ("batch", "jobs")
UID_LABEL, NAME_LABEL = "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"


def _int(spec: dict, key: str, default: int) -> int:
    value = spec.get(key)
    return default if value is None else int(value)


def job_labels(job: dict) -> dict:
    uid, name = job["metadata"]["uid"], job["metadata"]["name"]
    return {UID_LABEL: uid, NAME_LABEL: name, "controller-uid": uid, "job-name": name}


def finished(job: dict) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


class JobController(Controller):
    """Runs each Job's pods to its completions and writes the Job's status."""

    name = "job"
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy
    watches = frozenset({JOBS, u.PODS})

    def resync(self) -> None:
        for job in self.ctx.store.list(JOBS)[0]:
            self.reconcile(job)

    def on_event(self, type: str, gr, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        if tuple(gr) == JOBS:
            if type != "DELETED":
                self.reconcile(self.ctx.store.get(JOBS, ns, obj["metadata"]["name"]))
            return
        owner = u.controller_uid(obj)
        name = u.labels_of(obj).get(NAME_LABEL)
        if owner and name:
            job = self.ctx.store.get(JOBS, ns, name)
            if job is not None and job["metadata"]["uid"] == owner:
                self.reconcile(job)

    def reconcile(self, job: dict | None) -> None:
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        if not (job.get("spec") or {}).get("selector"):
            self._default(job)  # the stored update comes back as an event
            return
        ns = job["metadata"].get("namespace")
        pods = [p for p in self.ctx.store.list(u.PODS, ns)[0] if u.controller_uid(p) == job["metadata"]["uid"]]
        phases = [(p.get("status") or {}).get("phase") for p in pods]
        active = [p for p, ph in zip(pods, phases) if ph not in ("Succeeded", "Failed")
                  and not p["metadata"].get("deletionTimestamp")]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        spec = job["spec"]
        if not finished(job) and not spec.get("suspend") and namespace_active(self.ctx.store, ns):
            completions = _int(spec, "completions", 1)
            room = min(_int(spec, "parallelism", 1), completions - succeeded) - len(active)
            if failed <= _int(spec, "backoffLimit", 6):
                for _ in range(max(room, 0)):
                    pod = self._create_pod(job)
                    if pod is not None:
                        active.append(pod)
        self._write_status(job, active, succeeded, failed)

    def _default(self, job: dict) -> None:
        """What the API server adds on create: the generated selector, pod labels, spec defaults."""
        updated = st.copy_json(job)
        spec = updated.setdefault("spec", {})
        labels = job_labels(job)
        spec["selector"] = {"matchLabels": {UID_LABEL: labels[UID_LABEL]}}
        template = spec.setdefault("template", {})
        tmeta = template.setdefault("metadata", {})
        tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
        updated["metadata"]["labels"] = {**labels, **(updated["metadata"].get("labels") or {})}
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
        default_pod_spec(template.setdefault("spec", {}))
        updated["metadata"].pop("resourceVersion", None)
        u.safe(lambda: self.ctx.store.update(JOBS, updated))

    def _create_pod(self, job: dict) -> dict | None:
        template = st.copy_json(job["spec"].get("template") or {})
        tmeta = template.get("metadata") or {}
        spec = template.get("spec") or {}
        default_pod_spec(spec)
        name = f"{job['metadata']['name']}-{u.random_suffix()}"
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "generateName": f"{job['metadata']['name']}-",
                            "namespace": job["metadata"].get("namespace"),
                            "labels": {**(tmeta.get("labels") or {}), **job_labels(job)},
                            "annotations": tmeta.get("annotations") or {},
                            "ownerReferences": [u.owner_ref(job)]},
               "spec": spec, "status": {"phase": "Pending", "qosClass": qos_class(spec)}}
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        created = u.safe(lambda: self.ctx.store.create(u.PODS, pod))
        if created is not None:
            self.ctx.record_event(job, "Normal", "SuccessfulCreate", f"Created pod: {name}", "job-controller")
        return created

    def _write_status(self, job: dict, active: list[dict], succeeded: int, failed: int) -> None:
        spec, old = job["spec"], job.get("status") or {}
        now = st.now_iso()
        status = {"startTime": old.get("startTime") or now, "active": len(active),
                  "ready": sum(1 for p in active if _ready(p)), "succeeded": succeeded, "failed": failed,
                  "terminating": 0, "uncountedTerminatedPods": {}}
        conds = list(old.get("conditions") or [])
        done = succeeded >= _int(spec, "completions", 1)
        gave_up = failed > _int(spec, "backoffLimit", 6)
        if done and not finished(job):
            conds = u.set_condition(conds, "SuccessCriteriaMet", "True", "CompletionsReached",
                                    "Reached expected number of succeeded pods", now, probe=True)
            conds = u.set_condition(conds, "Complete", "True", "CompletionsReached",
                                    "Reached expected number of succeeded pods", now, probe=True)
            self.ctx.record_event(job, "Normal", "Completed", "Job completed", "job-controller")
        elif gave_up and not finished(job):
            conds = u.set_condition(conds, "FailureTarget", "True", "BackoffLimitExceeded",
                                    "Job has reached the specified backoff limit", now, probe=True)
            conds = u.set_condition(conds, "Failed", "True", "BackoffLimitExceeded",
                                    "Job has reached the specified backoff limit", now, probe=True)
            self.ctx.record_event(job, "Warning", "BackoffLimitExceeded",
                                  "Job has reached the specified backoff limit", "job-controller")
        if conds:
            status["conditions"] = conds
        if done:
            status["completionTime"] = old.get("completionTime") or now
        status = {k: v for k, v in status.items() if v or k in ("startTime", "uncountedTerminatedPods", "ready",
                                                                "terminating")}
        if old != status:
            u.write_status(self.ctx.store, JOBS, job, status)


def _ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])
