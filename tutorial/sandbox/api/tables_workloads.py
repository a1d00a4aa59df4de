"""`kubectl get` columns for Jobs, CronJobs, StatefulSets, DaemonSets, PriorityClasses (as kubectl 1.32 prints them)."""

from __future__ import annotations

import datetime

from tutorial.sandbox.api.tablecells import _col, age, human_duration, shared_columns


def _seconds(ts: str | None) -> float | None:
    if not ts:
        return None
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def _job_status(o: dict) -> str:
    conds = {c.get("type"): c.get("status") for c in (o.get("status") or {}).get("conditions") or []}
    for kind in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet", "Suspended"):
        if conds.get(kind) == "True":
            return {"SuccessCriteriaMet": "Complete", "FailureTarget": "Failed"}.get(kind, kind)
    return "Running"


def _job_duration(o: dict) -> str:
    status = o.get("status") or {}
    start = _seconds(status.get("startTime"))
    if start is None:
        return ""
    end = _seconds(status.get("completionTime")) or datetime.datetime.now(datetime.timezone.utc).timestamp()
    return human_duration(max(end - start, 0))


def workload_columns() -> dict[tuple[str, str], list]:
    name, age_, st, sp, images, conts, sel = shared_columns()
    return {
        ("batch", "jobs"): [
            name, (_col("Status"), _job_status),
            (_col("Completions"), lambda o: f"{st(o).get('succeeded', 0)}/{sp(o).get('completions', 1)}"),
            (_col("Duration"), _job_duration), age_, conts, images, sel],
        ("batch", "cronjobs"): [
            name, (_col("Schedule"), lambda o: sp(o).get("schedule", "")),
            (_col("Timezone"), lambda o: sp(o).get("timeZone") or "<none>"),
            (_col("Suspend", "boolean"), lambda o: bool(sp(o).get("suspend"))),
            (_col("Active", "integer"), lambda o: len(st(o).get("active") or [])),
            (_col("Last Schedule"), lambda o: age(st(o).get("lastScheduleTime")) if st(o).get("lastScheduleTime")
             else "<none>"), age_, conts, images, sel],
        ("apps", "statefulsets"): [
            name, (_col("Ready"), lambda o: f"{st(o).get('readyReplicas', 0)}/{sp(o).get('replicas', 1)}"),
            age_, conts, images],
        ("apps", "daemonsets"): [
            name, (_col("Desired", "integer"), lambda o: st(o).get("desiredNumberScheduled", 0)),
            (_col("Current", "integer"), lambda o: st(o).get("currentNumberScheduled", 0)),
            (_col("Ready", "integer"), lambda o: st(o).get("numberReady", 0)),
            (_col("Up-to-date", "integer"), lambda o: st(o).get("updatedNumberScheduled", 0)),
            (_col("Available", "integer"), lambda o: st(o).get("numberAvailable", 0)),
            (_col("Node Selector"), lambda o: ",".join(
                f"{k}={v}" for k, v in ((sp(o).get("template") or {}).get("spec") or {}).get("nodeSelector", {}).items())
             or "<none>"), age_, conts, images, sel],
        ("scheduling.k8s.io", "priorityclasses"): [
            name, (_col("Value", "integer"), lambda o: o.get("value", 0)),
            (_col("Global-Default", "boolean"), lambda o: bool(o.get("globalDefault"))), age_,
            (_col("PreemptionPolicy"), lambda o: o.get("preemptionPolicy", "PreemptLowerPriority"))],
    }
