"""Real kubectl 1.32 against a sandbox cluster: Jobs, CronJobs, StatefulSets and DaemonSets do their work.

Also the protobuf bodies of `kubectl create job/cronjob/ingress/pdb/quota/token` are decoded.
"""

from __future__ import annotations

import datetime
import json

import pytest

from cluster_fixtures import sandbox  # noqa: F401 - the fixture
from tutorial.sandbox.controllers.cronjobs import ScheduleError, next_run

STATEFUL = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "redis:7"}]}
"""
DAEMON = """apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "busybox:1.36", command: [sleep, infinity]}]}
"""


def _json(sb, *args) -> dict:
    return json.loads(sb.kubectl(*args, "-o", "json").stdout)


def test_typed_create_commands_send_protobuf_the_sandbox_decodes(sandbox):  # noqa: F811
    sandbox.kubectl("create", "ingress", "web", "--class=istio", "--rule=emoji.example/*=web-svc:80,tls=cert")
    rule = _json(sandbox, "get", "ingress", "web")["spec"]["rules"][0]
    assert rule["host"] == "emoji.example"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "web-svc", "port": {"number": 80}}
    sandbox.kubectl("create", "pdb", "web", "--selector=app=web", "--min-available=1")
    assert _json(sandbox, "get", "pdb", "web")["spec"] == {"minAvailable": 1,
                                                          "selector": {"matchLabels": {"app": "web"}}}
    sandbox.kubectl("create", "quota", "small", "--hard=cpu=1,memory=1Gi,pods=2")
    assert _json(sandbox, "get", "quota", "small")["spec"]["hard"] == {"cpu": "1", "memory": "1Gi", "pods": "2"}
    sandbox.kubectl("create", "priorityclass", "high", "--value=1000", "--description=lessons first")
    assert _json(sandbox, "get", "priorityclass", "high")["value"] == 1000
    sandbox.kubectl("create", "serviceaccount", "robot")
    assert sandbox.kubectl("create", "token", "robot").stdout.strip()
    sandbox.kubectl("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=*/5 * * * *", "--", "date")
    cron = _json(sandbox, "get", "cronjob", "tick")
    assert cron["spec"]["schedule"] == "*/5 * * * *" and cron["spec"]["concurrencyPolicy"] == "Allow"
    assert cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"] == ["date"]


def test_a_job_runs_its_pods_to_completion(sandbox):  # noqa: F811
    sandbox.kubectl("create", "job", "hello", "--image=busybox:1.36", "--", "echo", "hello")
    sandbox.wait("--for=condition=complete", "job/hello")
    job = _json(sandbox, "get", "job", "hello")
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    assert job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == job["metadata"]["uid"]
    assert {c["type"] for c in job["status"]["conditions"]} == {"SuccessCriteriaMet", "Complete"}
    pod = _json(sandbox, "get", "pods", "-l", "job-name=hello")["items"][0]
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    table = sandbox.kubectl("get", "job", "hello").stdout
    assert "Complete" in table and "1/1" in table
    assert "Completed" in sandbox.kubectl("get", "pods", "-l", "job-name=hello").stdout


def test_job_completions_and_parallelism_and_a_job_from_a_cronjob(sandbox):  # noqa: F811
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch"},
                "spec": {"completions": 3, "parallelism": 2, "template": {"spec": {
                    "restartPolicy": "Never", "containers": [{"name": "w", "image": "busybox:1.36",
                                                              "command": ["sh", "-c", "echo work"]}]}}}}
    sandbox.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    sandbox.wait("--for=condition=complete", "job/batch")
    assert _json(sandbox, "get", "job", "batch")["status"]["succeeded"] == 3
    assert len(_json(sandbox, "get", "pods", "-l", "job-name=batch")["items"]) == 3
    sandbox.kubectl("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=0 0 1 1 *", "--", "date")
    sandbox.kubectl("create", "job", "tick-now", "--from=cronjob/tick")
    sandbox.wait("--for=condition=complete", "job/tick-now")


def test_a_server_that_never_exits_keeps_its_job_running(sandbox):  # noqa: F811
    sandbox.kubectl("create", "job", "server", "--image=nginx:1.27")
    sandbox.wait("--for=condition=Ready", "pods", "-l", "job-name=server")
    assert "Running" in sandbox.kubectl("get", "job", "server").stdout


def test_statefulset_pods_are_ordered_and_roll_from_the_top(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=STATEFUL)
    out = sandbox.kubectl("rollout", "status", "sts/db", "--timeout=30s").stdout
    assert "roll out complete" in out
    names = sorted(p["metadata"]["name"] for p in _json(sandbox, "get", "pods", "-l", "app=db")["items"])
    assert names == ["db-0", "db-1", "db-2"]
    pod = _json(sandbox, "get", "pod", "db-1")
    assert pod["spec"]["hostname"] == "db-1" and pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert "3/3" in sandbox.kubectl("get", "sts", "db").stdout
    sandbox.kubectl("set", "image", "sts/db", "db=redis:7.2")
    sandbox.kubectl("rollout", "status", "sts/db", "--timeout=30s")
    images = {p["spec"]["containers"][0]["image"] for p in _json(sandbox, "get", "pods", "-l", "app=db")["items"]}
    assert images == {"redis:7.2"}
    sandbox.kubectl("scale", "sts/db", "--replicas=1")
    sandbox.wait("--for=delete", "pod/db-2", "pod/db-1")
    assert _json(sandbox, "get", "pod", "db-0")["status"]["phase"] == "Running"


def test_daemonset_runs_one_pod_on_the_node(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=DAEMON)
    sandbox.kubectl("rollout", "status", "ds/agent", "--timeout=30s")
    pods = _json(sandbox, "get", "pods", "-l", "app=agent")["items"]
    assert len(pods) == 1 and pods[0]["status"]["phase"] == "Running"
    ds = _json(sandbox, "get", "ds", "agent")["status"]
    assert (ds["desiredNumberScheduled"], ds["numberReady"]) == (1, 1)
    sandbox.kubectl("set", "image", "ds/agent", "agent=busybox:1.37")
    sandbox.kubectl("rollout", "status", "ds/agent", "--timeout=30s")
    pods = _json(sandbox, "get", "pods", "-l", "app=agent")["items"]
    assert [p["spec"]["containers"][0]["image"] for p in pods if not p["metadata"].get("deletionTimestamp")] == \
        ["busybox:1.37"]


@pytest.mark.parametrize("schedule, expected", [
    ("*/5 * * * *", "2026-12-02T08:30"), ("0 9 * * MON-FRI", "2026-12-02T09:00"), ("@daily", "2026-12-03T00:00"),
    ("7 * * * 7", "2026-12-06T00:07"), ("0 0 * * 5-7", "2026-12-04T00:00"), ("0 0 1 1 *", "2027-01-01T00:00")])
def test_cron_schedules_name_the_next_run(schedule, expected):
    after = datetime.datetime(2026, 12, 2, 8, 29, 30, tzinfo=datetime.timezone.utc)  # a Wednesday
    assert next_run(schedule, after).strftime("%Y-%m-%dT%H:%M") == expected


@pytest.mark.parametrize("schedule", ["* * * *", "61 * * * *", "*/0 * * * *", "0 0 * FOO *"])
def test_bad_cron_schedules_are_refused(schedule):
    with pytest.raises(ScheduleError):
        next_run(schedule, datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))


@pytest.mark.parametrize("how", ["exit code", "crashloop fault"])
def test_a_job_whose_pods_fail_stops_at_its_backoff_limit(sandbox, how):  # noqa: F811
    command = ["sh", "-c", "echo trying; exit 3"]
    if how == "crashloop fault":
        sandbox.faults.enable("crashloop", selector="job-name=doomed")
        command = ["sh", "-c", "echo fine"]
    manifest = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "doomed"},
                "spec": {"backoffLimit": 1, "template": {"spec": {
                    "restartPolicy": "Never", "containers": [{"name": "w", "image": "busybox:1.36",
                                                              "command": command}]}}}}
    sandbox.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    sandbox.wait("--for=condition=failed", "job/doomed")
    job = _json(sandbox, "get", "job", "doomed")
    failed = next(c for c in job["status"]["conditions"] if c["type"] == "Failed")
    assert (failed["reason"], failed["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert job["status"]["failed"] == 2
    pods = _json(sandbox, "get", "pods", "-l", "job-name=doomed")["items"]
    assert {p["status"]["phase"] for p in pods} == {"Failed"}
    assert "Error" in sandbox.kubectl("get", "pods", "-l", "job-name=doomed").stdout
