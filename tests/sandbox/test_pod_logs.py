"""Real kubectl 1.32 against a sandbox cluster: `kubectl logs` as on a real cluster.

Per-container start-up lines of the real applications (Emojivoto, istiod, istio-proxy, nginx, echo),
--tail, --since, --timestamps, -f (follows new lines, ends when the container does), --previous
(the real error without an earlier container; the last run after a restart) and the kubelet's
errors for a container still waiting or failing to pull its image.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cluster_fixtures import kubectl_env, require_kubectl, start_sandbox

EMOJIVOTO = Path("/work/shared/reference/emojivoto-example/rendered-offline.yaml")


@pytest.fixture(scope="module")
def sb(tmp_path_factory):
    box = start_sandbox(tmp_path_factory.mktemp("logs"), faults=["crashloop:selector=app=crash"])
    yield box
    box.cluster.stop()


def _emojivoto(sb) -> None:
    if not EMOJIVOTO.exists():
        pytest.skip("the shared Emojivoto reference manifests are not here")
    sb.kubectl("apply", "-f", str(EMOJIVOTO))
    sb.wait("--for=condition=Available", "deploy", "--all", "-n", "emojivoto")


def test_emojivoto_services_log_their_real_start_up_lines(sb):
    _emojivoto(sb)
    web = sb.kubectl("logs", "-n", "emojivoto", "deploy/web").stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in web] == [
        "Connecting to [voting-svc.emojivoto:8080]", "Connecting to [emoji-svc.emojivoto:8080]",
        "Starting web server on WEB_PORT=[8080] and MESSAGE_OF_THE_DAY=[]"]
    emoji = sb.kubectl("logs", "-n", "emojivoto", "deploy/emoji").stdout
    assert "Starting grpc server on GRPC_PORT=[8080]" in emoji
    stamped = sb.kubectl("logs", "-n", "emojivoto", "deploy/voting", "--timestamps").stdout.splitlines()
    assert all(line[:4].isdigit() and line.split(" ", 1)[0].endswith("Z") for line in stamped)
    assert sb.kubectl("logs", "-n", "emojivoto", "deploy/web", "--tail=1").stdout.count("\n") == 1
    assert sb.kubectl("logs", "-n", "emojivoto", "deploy/web", "--since=1h").stdout.count("\n") == 3


def test_previous_without_an_earlier_container_is_the_real_error(sb):
    _emojivoto(sb)
    proc = sb.kubectl("logs", "-n", "emojivoto", "deploy/web", "--previous", check=False)
    assert proc.returncode == 1
    assert 'previous terminated container "web-svc" in pod "web-' in proc.stderr and "not found" in proc.stderr


def test_after_a_restart_previous_shows_the_last_run(sb):
    sb.kubectl("run", "crash", "--image=nginx:1.27", "--labels=app=crash")
    sb.wait("--for=jsonpath={.status.containerStatuses[0].restartCount}=1", "pod/crash")
    previous = sb.kubectl("logs", "crash", "--previous").stdout
    assert "Configuration complete; ready for start up" in previous


def test_waiting_containers_and_bad_names_get_the_kubelets_words(sb):
    sb.kubectl("run", "pull", "--image=nginx:9.9.9")
    sb.wait("--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ErrImagePull", "pod/pull")
    proc = sb.kubectl("logs", "pull", check=False)
    assert 'container "pull" in pod "pull" is waiting to start: trying and failing to pull image' in proc.stderr
    two = {"spec": {"containers": [{"name": "a", "image": "nginx:1.27"},
                                   {"name": "b", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]}}
    sb.kubectl("run", "two", "--image=nginx:1.27", "--overrides", json.dumps(two))
    sb.wait("--for=condition=Ready", "pod/two")
    assert "nginx/" in sb.kubectl("logs", "two", "-c", "a").stdout
    assert sb.kubectl("logs", "two", "-c", "b").stdout == ""


def test_a_finished_job_logs_its_echo(sb):
    sb.kubectl("create", "job", "hello", "--image=busybox:1.36", "--", "sh", "-c", "echo hello; echo world")
    sb.wait("--for=condition=complete", "job/hello")
    assert sb.kubectl("logs", "job/hello").stdout == "hello\nworld\n"


def test_follow_streams_new_lines_until_stopped(sb):
    _emojivoto(sb)
    cmd = [require_kubectl(), "logs", "-f", "-n", "emojivoto", "deploy/vote-bot", "--tail=1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=kubectl_env(sb.home, sb.kubeconfig))
    try:
        lines = [proc.stdout.readline() for _ in range(3)]  # the tail line, then lines that came later
    finally:
        proc.kill()
        proc.wait(10)
    assert all(line.startswith("✔ Voting for :") for line in lines), lines
    assert proc.returncode != 0  # still following when stopped: it never ended by itself
