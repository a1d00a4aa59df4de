"""Real kubectl 1.32 against a sandbox cluster: the kubelet pulls only images that exist.

Catalogue images run; anything else shows ErrImagePull with the registry's answer (no such host,
not found, pull access denied), then ImagePullBackOff, with the kubelet's Events; a rollout of a
broken image never completes and the old pods keep serving.
"""

from __future__ import annotations

import json

import pytest

from cluster_fixtures import deployment_yaml, sandbox  # noqa: F401 - the fixture
from tutorial.sandbox.kubelet import images


@pytest.mark.parametrize("image", ["nginx", "nginx:1.27", "busybox:1.36", "curlimages/curl:8.11.1",
                                   "docker.l5d.io/buoyantio/emojivoto-web:v11", "docker.io/istio/pilot:1.27.1",
                                   "docker.io/istio/proxyv2:1.27.1", "nginx@sha256:" + "a" * 64])
def test_catalogue_knows_the_lessons_and_common_images(image):
    assert images.known(image)


@pytest.mark.parametrize("image, answer", [
    ("nosuchregistry.example/web:broken", "dial tcp: lookup nosuchregistry.example: no such host"),
    ("nginx:9.9.9", 'code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:9.9.9": '
                    'failed to resolve reference "docker.io/library/nginx:9.9.9": docker.io/library/nginx:9.9.9: not found'),
    ("myorg/private-app:1", "pull access denied, repository does not exist or may require authorization"),
    ("auto", 'failed to pull and unpack image "docker.io/library/auto:latest"'),
])
def test_unknown_images_get_the_registry_answer(image, answer):
    assert not images.known(image)
    assert answer in images.registry_answer(image)


def _waiting(sb, pod: str) -> dict:
    status = json.loads(sb.kubectl("get", "pod", pod, "-o", "json").stdout)["status"]
    return status["containerStatuses"][0]["state"].get("waiting") or {}


def test_a_pod_with_a_missing_image_goes_err_image_pull_then_back_off(sandbox):  # noqa: F811
    sandbox.kubectl("run", "broken", "--image=nosuchregistry.example/web:broken")
    sandbox.wait("--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff",
                 "pod/broken")
    waiting = _waiting(sandbox, "broken")
    assert waiting["message"].startswith('Back-off pulling image "nosuchregistry.example/web:broken"')
    events = sandbox.kubectl("get", "events", "--field-selector", "involvedObject.name=broken").stdout
    assert 'Failed to pull image "nosuchregistry.example/web:broken": rpc error' in events
    assert "no such host" in events and "Error: ErrImagePull" in events
    assert 'Back-off pulling image "nosuchregistry.example/web:broken"' in events
    assert "Error: ImagePullBackOff" in events
    sandbox.kubectl("run", "tagless", "--image=nginx:9.9.9")
    sandbox.wait("--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ErrImagePull", "pod/tagless")
    assert "docker.io/library/nginx:9.9.9: not found" in _waiting(sandbox, "tagless")["message"]


def test_a_rollout_to_a_missing_image_never_completes_and_old_pods_serve(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", replicas=2))
    sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    sandbox.kubectl("set", "image", "deploy/web", "web=nosuchregistry.example/web:broken")
    proc = sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=2s", check=False)
    assert proc.returncode == 1 and "timed out waiting" in proc.stderr
    ready = json.loads(sandbox.kubectl("get", "deploy", "web", "-o", "json").stdout)["status"]["readyReplicas"]
    assert ready == 2
    pods = sandbox.kubectl("get", "pods", "-l", "app=web").stdout
    assert "ErrImagePull" in pods or "ImagePullBackOff" in pods
