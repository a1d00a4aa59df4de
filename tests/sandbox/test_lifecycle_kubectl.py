"""Real kubectl 1.32 against a whole sandbox cluster: object lifecycle as a real cluster runs it.

Status defaults on create, graceful pod deletion (Terminating), cascade orphan / foreground /
background, rollout pause / resume / undo, server-side apply conflicts between field managers.
"""

from __future__ import annotations

import json

from cluster_fixtures import deployment_yaml, sandbox  # noqa: F401 - the fixture

RS_COLUMNS = ("custom-columns=NAME:.metadata.name,REV:.metadata.annotations.deployment\\.kubernetes\\.io/revision,"
              "DESIRED:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image")


def _json(sb, *args) -> dict:
    return json.loads(sb.kubectl(*args, "-o", "json").stdout)


def _rollout(sb, name: str, replicas: int = 2, image: str = "nginx:1.27") -> None:
    sb.kubectl("apply", "-f", "-", input=deployment_yaml(name, replicas=replicas, image=image))
    sb.kubectl("rollout", "status", f"deploy/{name}", "--timeout=30s")


def test_new_pods_and_services_carry_the_status_a_real_server_gives(sandbox):  # noqa: F811
    created = json.loads(sandbox.kubectl("run", "p", "--image=nginx:1.27", "--dry-run=server", "-o", "json").stdout)
    assert created["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    svc = json.loads(sandbox.kubectl("create", "service", "clusterip", "s", "--tcp=80:80", "-o", "json").stdout)
    assert svc["status"] == {"loadBalancer": {}}


def test_deleting_a_running_pod_shows_terminating_then_it_is_gone(sandbox):  # noqa: F811
    # a finalizer holds the pod in Terminating so the test can look at it without racing the kubelet
    sandbox.kubectl("run", "p", "--image=nginx:1.27", "--overrides",
                    '{"metadata": {"finalizers": ["example.com/hold"]}}')
    sandbox.wait("--for=condition=Ready", "pod/p")
    sandbox.kubectl("delete", "pod", "p", "--wait=false")
    pod = _json(sandbox, "get", "pod", "p")
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30 and pod["metadata"]["deletionTimestamp"]
    assert "Terminating" in sandbox.kubectl("get", "pod", "p").stdout
    sandbox.kubectl("patch", "pod", "p", "--type=merge", "-p", '{"metadata": {"finalizers": null}}')
    sandbox.wait("--for=delete", "pod/p")
    events = sandbox.kubectl("get", "events", "--field-selector", "reason=Killing").stdout
    assert "Stopping container p" in events
    sandbox.kubectl("run", "q", "--image=nginx:1.27")
    sandbox.wait("--for=condition=Ready", "pod/q")
    sandbox.kubectl("delete", "pod", "q", "--grace-period=0", "--force")
    assert sandbox.kubectl("get", "pod", "q", check=False).returncode == 1


def test_cascade_orphan_keeps_replicasets_and_pods_without_owner(sandbox):  # noqa: F811
    _rollout(sandbox, "web")
    sandbox.kubectl("delete", "deployment", "web", "--cascade=orphan")
    sets = _json(sandbox, "get", "rs", "-l", "app=web")["items"]
    pods = _json(sandbox, "get", "pods", "-l", "app=web")["items"]
    assert len(sets) == 1 and len(pods) == 2
    assert "ownerReferences" not in sets[0]["metadata"]
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet" for p in pods)
    assert sandbox.kubectl("get", "deployment", "web", check=False).returncode == 1


def test_cascade_foreground_and_background_delete_dependents(sandbox):  # noqa: F811
    _rollout(sandbox, "fg")
    sandbox.kubectl("delete", "deployment", "fg", "--cascade=foreground")
    sandbox.wait("--for=delete", "pods", "-l", "app=fg")
    assert _json(sandbox, "get", "rs", "-l", "app=fg")["items"] == []
    _rollout(sandbox, "bg")
    sandbox.kubectl("delete", "deployment", "bg")  # background, kubectl's default
    sandbox.wait("--for=delete", "rs", "-l", "app=bg")
    sandbox.wait("--for=delete", "pods", "-l", "app=bg")


def test_rollout_pause_holds_a_template_change_until_resume(sandbox):  # noqa: F811
    _rollout(sandbox, "web")
    sandbox.kubectl("rollout", "pause", "deploy/web")
    sandbox.kubectl("set", "image", "deploy/web", "web=nginx:1.28")
    sandbox.wait("--for=jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}=DeploymentPaused",
                 "deploy/web")
    sandbox.wait("--for=jsonpath={.status.observedGeneration}=3", "deploy/web")
    assert len(_json(sandbox, "get", "rs", "-l", "app=web")["items"]) == 1
    sandbox.kubectl("rollout", "resume", "deploy/web")
    sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    images = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["spec"]["replicas"]
              for rs in _json(sandbox, "get", "rs", "-l", "app=web")["items"]}
    assert images == {"nginx:1.27": 0, "nginx:1.28": 2}


def test_rollout_undo_returns_to_the_previous_replicaset(sandbox):  # noqa: F811
    _rollout(sandbox, "web")
    first = _json(sandbox, "get", "rs", "-l", "app=web")["items"][0]["metadata"]["name"]
    sandbox.kubectl("set", "image", "deploy/web", "web=nginx:1.28")
    sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    sandbox.kubectl("rollout", "undo", "deploy/web")
    sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    sets = _json(sandbox, "get", "rs", "-l", "app=web")["items"]
    assert len(sets) == 2  # no third ReplicaSet: the first one is current again
    current = next(rs for rs in sets if rs["spec"]["replicas"] == 2)
    assert current["metadata"]["name"] == first
    assert current["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert "REVISION" in sandbox.kubectl("rollout", "history", "deploy/web").stdout
    sandbox.kubectl("rollout", "undo", "deploy/web")  # and back again
    sandbox.kubectl("rollout", "status", "deploy/web", "--timeout=30s")
    image = _json(sandbox, "get", "deploy", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "nginx:1.28"


def test_server_side_apply_conflicts_between_managers_and_force(sandbox):  # noqa: F811
    apply = ("apply", "--server-side", "-f", "-")
    sandbox.kubectl(*apply, "--field-manager=alice", input=deployment_yaml("web", replicas=2))
    proc = sandbox.kubectl(*apply, "--field-manager=bob", input=deployment_yaml("web", replicas=3), check=False)
    assert proc.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas' in proc.stderr
    assert _json(sandbox, "get", "deploy", "web")["spec"]["replicas"] == 2
    proc = sandbox.kubectl(*apply, "--field-manager=bob",
                           input=deployment_yaml("web", replicas=3, image="nginx:1.28"), check=False)
    assert ('Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n'
            '- .spec.template.spec.containers[name="web"].image') in proc.stderr
    sandbox.kubectl(*apply, "--field-manager=bob", input=deployment_yaml("web", replicas=2))  # same values: co-own
    sandbox.kubectl(*apply, "--field-manager=bob", "--force-conflicts", input=deployment_yaml("web", replicas=3))
    assert _json(sandbox, "get", "deploy", "web")["spec"]["replicas"] == 3
    proc = sandbox.kubectl(*apply, "--field-manager=alice", input=deployment_yaml("web", replicas=2), check=False)
    assert 'conflict with "bob": .spec.replicas' in proc.stderr
