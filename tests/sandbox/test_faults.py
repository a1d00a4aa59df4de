"""Faults: parsing, and each fault's symptom as a learner sees it through the real kubectl."""

from __future__ import annotations

import json
import random

import pytest
from cluster_fixtures import deployment_yaml, sandbox_factory, service_yaml  # noqa: F401 - fixture

from tutorial.sandbox.faults import FaultError, FaultSet, parse_spec

EMOJI_WEB = "docker.l5d.io/buoyantio/emojivoto-web:v11"


def test_parse_forms():
    assert parse_spec("no-lb") == ("no-lb", {})
    assert parse_spec("image-pull=web") == ("image-pull", {"images": "web"})
    assert parse_spec("image-pull:images=web,voting") == ("image-pull", {"images": "web,voting"})
    faults = FaultSet.parse(["image-pull:images=web,voting", "flaky-api=0.3", "slow-controllers"])
    assert faults.active("image-pull") == {"images": ["web", "voting"]}
    assert faults.active("flaky-api") == {"rate": 0.3}
    assert faults.active("slow-controllers") == {"factor": 5.0}
    assert faults.active("no-lb") is None
    assert faults.image_fails(EMOJI_WEB) is True and faults.image_fails("nginx:1.27") is False


def test_parse_errors_name_what_exists():
    with pytest.raises(FaultError, match="known faults: .*image-pull"):
        FaultSet.parse(["no-such-fault"])
    with pytest.raises(FaultError, match="takes no value"):
        FaultSet.parse(["no-lb=yes"])
    with pytest.raises(FaultError, match="between 0 and 1"):
        FaultSet.parse(["flaky-api=2"])


def test_enable_disable_notifies_listeners():
    faults, seen = FaultSet(), []
    faults.subscribe(lambda: seen.append(faults.names()))
    faults.enable("no-lb")
    faults.disable("no-lb")
    faults.disable("no-lb")  # already off: no second notification
    assert seen == [["no-lb"], []]


def _pod(sb, selector: str) -> dict:
    return json.loads(sb.kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"][0]


def test_image_pull_fault_gives_image_pull_back_off_and_events(sandbox_factory):
    faulty = sandbox_factory(faults=["image-pull"])
    faulty.kubectl("apply", "-f", "-", input=deployment_yaml("web", image=EMOJI_WEB))
    faulty.wait("--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff",
                "pod", "-l", "app=web")
    table = faulty.kubectl("get", "pods", "-l", "app=web").stdout
    assert "ImagePullBackOff" in table and "0/1" in table
    events = faulty.kubectl("get", "events").stdout
    assert f'Failed to pull image "{EMOJI_WEB}"' in events
    assert f'Back-off pulling image "{EMOJI_WEB}"' in events
    faulty.wait("--for=condition=Available=False", "deployment/web")
    # Switched off at run time: the next retry pulls and the pod becomes Ready.
    faulty.faults.disable("image-pull")
    faulty.wait("--for=condition=Ready", "pod", "-l", "app=web")


def test_crashloop_fault_gives_crash_loop_back_off(sandbox_factory):
    faulty = sandbox_factory(faults=["crashloop:selector=app=crashy"])
    faulty.kubectl("apply", "-f", "-", input=deployment_yaml("crashy") + "---\n" + deployment_yaml("calm"))
    faulty.wait("--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff",
                "pod", "-l", "app=crashy")
    status = _pod(faulty, "app=crashy")["status"]["containerStatuses"][0]
    assert status["restartCount"] >= 1 and status["ready"] is False
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert "CrashLoopBackOff" in faulty.kubectl("get", "pods", "-l", "app=crashy").stdout
    assert "Back-off restarting failed container crashy" in faulty.kubectl("get", "events").stdout
    faulty.kubectl("rollout", "status", "deployment/calm", "--timeout=30s")  # others unaffected


def test_no_lb_fault_leaves_external_ip_pending(sandbox_factory):
    faulty = sandbox_factory(faults=["no-lb"])
    faulty.kubectl("apply", "-f", "-", input=service_yaml("web", type="LoadBalancer"))
    faulty.wait("--for=jsonpath={.spec.ports[0].nodePort}", "service/web")  # the controller saw it
    row = faulty.kubectl("get", "service", "web").stdout.splitlines()[1]
    assert "<pending>" in row
    faulty.faults.disable("no-lb")
    faulty.wait("--for=jsonpath={.status.loadBalancer.ingress[0].ipMode}=VIP", "service/web")


def test_istiod_unschedulable_stays_pending_with_failed_scheduling(sandbox_factory):
    faulty = sandbox_factory(faults=["istiod-unschedulable"])
    faulty.kubectl("create", "namespace", "istio-system")
    faulty.kubectl("apply", "-f", "-", input=deployment_yaml("istiod", ns="istio-system",
                                                              image="docker.io/istio/pilot:1.27.0"))
    faulty.wait("-n", "istio-system", "--for=jsonpath={.status.conditions[0].reason}=Unschedulable",
                "pod", "-l", "app=istiod")
    assert "Pending" in faulty.kubectl("get", "pods", "-n", "istio-system").stdout
    events = faulty.kubectl("get", "events", "-n", "istio-system").stdout
    assert "FailedScheduling" in events and "1 Insufficient memory" in events
    faulty.faults.disable("istiod-unschedulable")
    faulty.kubectl("rollout", "status", "-n", "istio-system", "deployment/istiod", "--timeout=30s")


def test_slow_controllers_hold_pods_until_switched_off(sandbox_factory):
    faulty = sandbox_factory(faults=["slow-controllers=100000"])
    faulty.kubectl("apply", "-f", "-", input=deployment_yaml("web"))
    faulty.wait("--for=create", "pod", "-l", "app=web")
    assert "Pending" in faulty.kubectl("get", "pods", "-l", "app=web").stdout  # hours away at this factor
    faulty.faults.disable("slow-controllers")
    faulty.kubectl("rollout", "status", "deployment/web", "--timeout=30s")


def test_flaky_api_answers_some_requests_with_500(sandbox_factory):
    faults = FaultSet(rng=random.Random(7))
    faults.enable("flaky-api", rate=0.5)
    sb = sandbox_factory(faults=faults)
    results = [sb.kubectl("get", "--raw", "/api/v1/namespaces", check=False) for _ in range(12)]
    failed = [r for r in results if r.returncode != 0]
    assert failed and len(failed) < len(results)
    assert any("InternalError" in r.stderr or "500" in r.stderr for r in failed)


def test_api_unreachable_refuses_connections_until_switched_off(sandbox_factory):
    sb = sandbox_factory()
    sb.kubectl("get", "namespaces")
    sb.faults.enable("api-unreachable")
    down = sb.kubectl("get", "namespaces", check=False)
    assert down.returncode != 0 and "refused" in down.stderr
    sb.faults.disable("api-unreachable")
    assert "kube-system" in sb.kubectl("get", "namespaces").stdout


def test_rollout_status_fails_once_the_progress_deadline_passes(sandbox_factory):
    from cluster_fixtures import fast_settings

    settings = fast_settings()
    settings.progress_deadline_scale = 0.001  # 600 s -> 0.6 s
    sb = sandbox_factory(faults=["image-pull"], settings=settings)
    sb.kubectl("apply", "-f", "-", input=deployment_yaml("web", image=EMOJI_WEB))
    out = sb.kubectl("rollout", "status", "deployment/web", "--timeout=30s", check=False)
    assert out.returncode != 0 and 'deployment "web" exceeded its progress deadline' in out.stderr
    deploy = json.loads(sb.kubectl("get", "deployment", "web", "-o", "json").stdout)
    progressing = {c["type"]: c for c in deploy["status"]["conditions"]}["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")


def test_faults_switch_from_the_sandbox_faults_configmap(sandbox_factory):
    sb = sandbox_factory(faults=["crashloop:selector=app=none"])
    sb.kubectl("-n", "kube-system", "create", "configmap", "sandbox-faults",
               "--from-literal=faults=no-lb crashloop=app=x bogus api-unreachable")
    sb.kubectl("apply", "-f", "-", input=service_yaml("web", type="LoadBalancer"))
    sb.wait("--for=jsonpath={.spec.ports[0].nodePort}", "service/web")
    assert "<pending>" in sb.kubectl("get", "service", "web").stdout.splitlines()[1]
    assert sb.faults.names() == ["crashloop", "no-lb"]
    assert sb.faults.active("crashloop") == {"selector": "app=none"}  # --fault wins over the ConfigMap
    events = sb.kubectl("get", "events", "-n", "kube-system").stdout
    assert "InvalidFault" in events and "unknown fault 'bogus'" in events
    sb.kubectl("-n", "kube-system", "delete", "configmap", "sandbox-faults")
    sb.wait("--for=jsonpath={.status.loadBalancer.ingress[0].ipMode}=VIP", "service/web")
    assert sb.faults.names() == ["crashloop"]
