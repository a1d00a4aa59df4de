"""CronJob controller: a Job at every time the schedule names, history trimmed, status kept.

Standard five-field cron schedules (minute hour day-of-month month day-of-week; `*`, `*/n`, `a-b`,
`a-b/n`, lists, names such as MON or JAN, and @hourly/@daily/@weekly/@monthly/@yearly) are run on the
sandbox clock, in UTC unless spec.timeZone names another zone. Each run creates the Job
`<cronjob>-<minutes since the epoch>` as the real controller names it; `concurrencyPolicy` Forbid
skips a run while one is active, Replace deletes the active one; finished Jobs beyond the history
limits are deleted. Runs missed while the sandbox was stopped are not made up.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.controllers.jobs import JOBS, finished
from tutorial.sandbox.controllers.runtime import Controller

CRONJOBS = ("batch", "cronjobs")
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_NAMES = {**{m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
          **{d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}}
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]


class ScheduleError(ValueError):
    """A schedule the cron parser refuses (the API server validates the same way)."""


def parse(schedule: str) -> list[set[int]]:
    """The allowed values of each of the five fields."""
    text = _MACROS.get(schedule.strip(), schedule.strip())
    parts = text.split()
    if len(parts) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(parts)}: {schedule}")
    return [_field(p, lo, hi, dow=(i == 4)) for i, (p, (lo, hi)) in enumerate(zip(parts, _RANGES))]


def _field(text: str, lo: int, hi: int, dow: bool = False) -> set[int]:
    """One cron field's values; day-of-week accepts 7 for Sunday, as cron does."""
    hi = 7 if dow else hi
    values: set[int] = set()
    for piece in text.upper().split(","):
        base, _, step_text = piece.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit() or step < 1:
            raise ScheduleError(f"bad step in {piece!r}")
        if base in ("*", "?"):
            start, end = lo, hi
        else:
            a, _, b = base.partition("-")
            start = _value(a, lo, hi)
            end = _value(b, lo, hi) if b else (hi if step_text else start)
        values.update(range(start, end + 1, step))
    return {v % 7 for v in values} if dow else values


def _value(text: str, lo: int, hi: int) -> int:
    value = _NAMES.get(text, int(text) if re.fullmatch(r"\d+", text) else None)
    if value is None or not lo <= value <= hi:
        raise ScheduleError(f"value {text!r} out of range {lo}-{hi}")
    return value


def next_run(schedule: str, after: datetime.datetime) -> datetime.datetime:
    """The first minute strictly after `after` that the schedule names."""
    minutes, hours, days, months, weekdays = parse(schedule)
    t = after.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        dom_ok, dow_ok = t.day in days, (t.isoweekday() % 7) in weekdays
        # cron: when both day fields are restricted, either may match
        day_ok = (dom_ok or dow_ok) if len(days) < 31 and len(weekdays) < 7 else (dom_ok and dow_ok)
        if t.month in months and day_ok and t.hour in hours and t.minute in minutes:
            return t
        t += datetime.timedelta(minutes=1)
    raise ScheduleError(f"the schedule {schedule!r} names no time within a year")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class CronJobController(Controller):
    """Creates the Jobs of each CronJob when their time comes and keeps its status and history."""

    name = "cronjob"
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy
    watches = frozenset({CRONJOBS, JOBS})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._timers: dict[str, datetime.datetime] = {}  # cronjob uid -> run time a timer waits for

    def resync(self) -> None:
        for cron in self.ctx.store.list(CRONJOBS)[0]:
            self.reconcile(cron)

    def on_event(self, type: str, gr, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        if tuple(gr) == CRONJOBS:
            if type == "DELETED":
                self._timers.pop(obj["metadata"].get("uid", ""), None)
            else:
                self.reconcile(self.ctx.store.get(CRONJOBS, ns, obj["metadata"]["name"]))
            return
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("kind") == "CronJob":
                self.reconcile(self.ctx.store.get(CRONJOBS, ns, ref.get("name", "")))

    def reconcile(self, cron: dict | None) -> None:
        if cron is None or cron["metadata"].get("deletionTimestamp"):
            return
        jobs = self._jobs(cron)
        self._trim_history(cron, jobs)
        self._write_status(cron, jobs)
        if (cron.get("spec") or {}).get("suspend"):
            return
        self._arm(cron)

    def _jobs(self, cron: dict) -> list[dict]:
        return [j for j in self.ctx.store.list(JOBS, cron["metadata"].get("namespace"))[0]
                if u.controller_uid(j) == cron["metadata"]["uid"]]

    def _arm(self, cron: dict) -> None:
        """Set a timer for the next run (one per CronJob)."""
        uid = cron["metadata"]["uid"]
        try:
            zone = zoneinfo.ZoneInfo(cron["spec"]["timeZone"]) if cron["spec"].get("timeZone") else None
            when = next_run(cron["spec"].get("schedule", ""), _now().astimezone(zone or datetime.timezone.utc))
        except (ScheduleError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            return
        if self._timers.get(uid) == when:
            return
        self._timers[uid] = when
        ns, name = cron["metadata"].get("namespace"), cron["metadata"]["name"]
        wait = max((when - _now()).total_seconds(), 0.0)
        self.ctx.schedule(wait, lambda: self._run(ns, name, uid, when))

    def _run(self, ns: str | None, name: str, uid: str, when: datetime.datetime) -> None:
        if self._timers.get(uid) != when:
            return
        self._timers.pop(uid, None)
        cron = self.ctx.store.get(CRONJOBS, ns, name)
        if cron is None or cron["metadata"]["uid"] != uid or cron["spec"].get("suspend"):
            return
        active = [j for j in self._jobs(cron) if not finished(j)]
        policy = cron["spec"].get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self.ctx.record_event(cron, "Normal", "JobAlreadyActive", "Not starting job because prior execution "
                                  "is running and concurrency policy is Forbid", "cronjob-controller")
        else:
            if active and policy == "Replace":
                for job in active:
                    u.safe(lambda j=job: self.ctx.store.delete(JOBS, ns, j["metadata"]["name"]))
            self._create_job(cron, when)
        self.reconcile(self.ctx.store.get(CRONJOBS, ns, name))

    def _create_job(self, cron: dict, when: datetime.datetime) -> None:
        template = st.copy_json(cron["spec"].get("jobTemplate") or {})
        tmeta = template.get("metadata") or {}
        name = f"{cron['metadata']['name']}-{int(when.timestamp() // 60)}"
        job = {"apiVersion": "batch/v1", "kind": "Job", "spec": template.get("spec") or {},
               "metadata": {"name": name, "namespace": cron["metadata"].get("namespace"),
                            "labels": tmeta.get("labels") or {},
                            "annotations": {**(tmeta.get("annotations") or {}),
                                            SCHEDULED_ANNOTATION: when.strftime("%Y-%m-%dT%H:%M:%SZ")},
                            "ownerReferences": [u.owner_ref(cron)]}}
        for key, value in {"parallelism": 1, "completions": 1, "backoffLimit": 6}.items():
            job["spec"].setdefault(key, value)
        if u.safe(lambda: self.ctx.store.create(JOBS, job)) is not None:
            self.ctx.record_event(cron, "Normal", "SuccessfulCreate", f"Created job {name}", "cronjob-controller")

    def _trim_history(self, cron: dict, jobs: list[dict]) -> None:
        spec = cron.get("spec") or {}
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                            ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            done = sorted((j for j in jobs if _condition(j, kind)),
                          key=lambda j: j["metadata"].get("creationTimestamp", ""))
            for job in done[:max(len(done) - int(limit), 0)]:
                u.safe(lambda j=job: self.ctx.store.delete(JOBS, j["metadata"].get("namespace"), j["metadata"]["name"]))
                self.ctx.record_event(cron, "Normal", "SuccessfulDelete", f"Deleted job {job['metadata']['name']}",
                                      "cronjob-controller")

    def _write_status(self, cron: dict, jobs: list[dict]) -> None:
        old = cron.get("status") or {}
        status = {k: v for k, v in old.items() if k in ("lastScheduleTime", "lastSuccessfulTime")}
        active = [j for j in jobs if not finished(j)]
        if active:
            status["active"] = [{"kind": "Job", "namespace": j["metadata"].get("namespace"),
                                 "name": j["metadata"]["name"], "uid": j["metadata"]["uid"],
                                 "apiVersion": "batch/v1", "resourceVersion": j["metadata"].get("resourceVersion")}
                                for j in active]
        scheduled = [(j["metadata"].get("annotations") or {}).get(SCHEDULED_ANNOTATION) for j in jobs]
        if any(scheduled):
            status["lastScheduleTime"] = max(s for s in scheduled if s)
        succeeded = [(j.get("status") or {}).get("completionTime") for j in jobs if _condition(j, "Complete")]
        if any(succeeded):
            status["lastSuccessfulTime"] = max(s for s in succeeded if s)
        if status != old:
            u.write_status(self.ctx.store, CRONJOBS, cron, status)


def _condition(job: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])
