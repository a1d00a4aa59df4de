"""Real kubectl 1.32 against a sandbox cluster: the scheduler honours resource requests.

The node has allocatable cpu 8, memory ~16 GiB, 110 pods. A pod that does not fit stays Pending with
the real FailedScheduling event and schedules as soon as room is freed or its request is lowered;
istiod's real chart requests (500m / 2048Mi) fit, and the istiod-unschedulable fault still forces it.
"""

from __future__ import annotations

import json

import pytest

from cluster_fixtures import deployment_yaml, sandbox  # noqa: F401 - the fixture
from tutorial.sandbox.controllers import scheduler

INSUFFICIENT_MEMORY = ("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: "
                       "1 No preemption victims found for incoming pod.")


@pytest.mark.parametrize("text, value", [("500m", 0.5), ("2", 2.0), ("2048Mi", 2 ** 31), ("16365712Ki", 16365712 * 1024),
                                         ("1e9", 1e9), ("100M", 1e8), ("1.5Gi", 1.5 * 2 ** 30), ("bogus", 0.0)])
def test_quantities_parse_as_kubernetes_writes_them(text, value):
    assert scheduler.quantity(text) == value


def _pod(name: str, cpu: str = "", memory: str = "") -> str:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                                                "resources": {"requests": requests}}]}})


def _scheduled(sb, name: str) -> dict:
    pod = json.loads(sb.kubectl("get", "pod", name, "-o", "json").stdout)
    return next(c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled")


def test_a_pod_that_does_not_fit_stays_pending_with_failed_scheduling(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=_pod("huge", memory="100Gi"))
    sandbox.wait("--for=condition=PodScheduled=False", "pod/huge")
    cond = _scheduled(sandbox, "huge")
    assert (cond["reason"], cond["message"]) == ("Unschedulable", INSUFFICIENT_MEMORY)
    events = sandbox.kubectl("get", "events", "--field-selector", "involvedObject.name=huge,reason=FailedScheduling")
    assert "Insufficient memory" in events.stdout
    assert "Pending" in sandbox.kubectl("get", "pod", "huge").stdout
    both = _pod("both", cpu="64", memory="100Gi")
    sandbox.kubectl("apply", "-f", "-", input=both)
    sandbox.wait("--for=condition=PodScheduled=False", "pod/both")
    assert _scheduled(sandbox, "both")["message"].startswith(
        "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption:")


def test_a_pending_pod_schedules_once_room_is_freed(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=_pod("first", cpu="6"))
    sandbox.wait("--for=condition=Ready", "pod/first")
    sandbox.kubectl("apply", "-f", "-", input=_pod("second", cpu="4"))
    sandbox.wait("--for=condition=PodScheduled=False", "pod/second")
    assert "1 Insufficient cpu." in _scheduled(sandbox, "second")["message"]
    sandbox.kubectl("delete", "pod", "first")
    sandbox.wait("--for=condition=Ready", "pod/second")


def test_lowering_a_deployments_request_lets_it_schedule(sandbox):  # noqa: F811
    manifest = deployment_yaml("big", replicas=1).replace(
        "        ports:", "        resources: {requests: {memory: 64Gi}}\n        ports:")
    sandbox.kubectl("apply", "-f", "-", input=manifest)
    sandbox.wait("--for=condition=PodScheduled=False", "pods", "-l", "app=big")
    sandbox.kubectl("set", "resources", "deploy/big", "--requests=memory=1Gi")
    sandbox.kubectl("rollout", "status", "deploy/big", "--timeout=30s")


def test_istiod_chart_requests_fit_and_the_fault_still_forces_pending(tmp_path):
    from cluster_fixtures import start_sandbox
    from tutorial.sandbox.simtools import charts

    deploy = next(o for o in charts.istiod("istiod", "istio-system", {}) if o["kind"] == "Deployment")
    template = deploy["spec"]["template"]
    assert template["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "2048Mi"}
    pod = {"apiVersion": "v1", "kind": "Pod", "spec": template["spec"],
           "metadata": {"name": "istiod-x", "namespace": "istio-system", "labels": template["metadata"]["labels"]}}
    sb = start_sandbox(tmp_path / "a")
    try:
        sb.kubectl("create", "namespace", "istio-system")
        sb.kubectl("apply", "-f", "-", input=json.dumps(pod))
        sb.wait("--for=condition=PodScheduled", "pod/istiod-x", "-n", "istio-system")
        sb.faults.enable("istiod-unschedulable")
        pod["metadata"]["name"] = "istiod-y"
        sb.kubectl("apply", "-f", "-", input=json.dumps(pod))
        sb.wait("--for=condition=PodScheduled=False", "pod/istiod-y", "-n", "istio-system")
    finally:
        sb.cluster.stop()
