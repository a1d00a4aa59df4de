"""Core controllers seen through the real kubectl: rollouts, scaling, Services, namespaces, GC."""

from __future__ import annotations

import json

from cluster_fixtures import deployment_yaml, sandbox, service_yaml  # noqa: F401 - fixture

from tutorial.sandbox.controllers.util import ENDPOINTSLICES, PODS


def _json(sb, *args) -> dict:
    return json.loads(sb.kubectl("get", *args, "-o", "json").stdout)


def test_deployment_rolls_out_ready_pods(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", replicas=2))
    out = sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s").stdout
    assert 'deployment "web" successfully rolled out' in out
    sandbox.wait("--for=condition=Available", "deployment/web")
    deploy = _json(sandbox, "deployment", "web")
    assert deploy["status"]["readyReplicas"] == 2 and deploy["status"]["updatedReplicas"] == 2
    progressing = {c["type"]: c for c in deploy["status"]["conditions"]}["Progressing"]
    assert progressing["reason"] == "NewReplicaSetAvailable"
    pods = _json(sandbox, "pods", "-l", "app=web")["items"]
    assert len(pods) == 2
    rs_name = pods[0]["metadata"]["ownerReferences"][0]["name"]
    assert rs_name == f"web-{pods[0]['metadata']['labels']['pod-template-hash']}"
    for pod in pods:
        status = pod["status"]
        assert status["phase"] == "Running" and status["podIP"].startswith("10.244.")
        assert pod["spec"]["nodeName"] == "sandbox-control-plane"
        assert status["containerStatuses"][0]["ready"] is True
        assert status["containerStatuses"][0]["imageID"]
    table = sandbox.kubectl("get", "pods", "-l", "app=web").stdout
    assert table.count("Running") == 2 and "1/1" in table


def test_template_change_rolls_a_new_replicaset_and_scales_the_old_to_zero(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web"))
    sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    sandbox.kubectl("set", "image", "deployment/web", "web=nginx:1.28")
    sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    sets = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
            for rs in _json(sandbox, "replicasets", "-l", "app=web")["items"]}
    assert sets["nginx:1.27"]["spec"]["replicas"] == 0
    assert sets["nginx:1.28"]["spec"]["replicas"] == 1
    sandbox.wait("--for=delete", "pod", "-l", f"pod-template-hash={sets['nginx:1.27']['metadata']['labels']['pod-template-hash']}")
    images = {p["spec"]["containers"][0]["image"] for p in _json(sandbox, "pods", "-l", "app=web")["items"]}
    assert images == {"nginx:1.28"}
    revision = _json(sandbox, "deployment", "web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    assert revision == "2"


def test_scaling_up_and_down(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web"))
    sandbox.kubectl("scale", "deployment/web", "--replicas=3")
    sandbox.wait("--for=jsonpath={.status.readyReplicas}=3", "deployment/web")
    sandbox.kubectl("scale", "deployment/web", "--replicas=1")
    sandbox.wait("--for=jsonpath={.status.replicas}=1", "deployment/web")
    assert len(_json(sandbox, "pods", "-l", "app=web")["items"]) == 1


def test_service_gets_cluster_ip_endpoints_and_slices_from_ready_pods(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", replicas=2) + "---\n" + service_yaml("web"))
    sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert _json(sandbox, "service", "web")["spec"]["clusterIP"].startswith("10.96.")
    sandbox.wait("--for=jsonpath={.subsets[0].addresses[1].ip}", "endpoints/web")
    ep = _json(sandbox, "endpoints", "web")
    pod_ips = {p["status"]["podIP"] for p in _json(sandbox, "pods", "-l", "app=web")["items"]}
    assert {a["ip"] for a in ep["subsets"][0]["addresses"]} == pod_ips
    assert ep["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]  # named targetPort
    slices = sandbox.store.list(ENDPOINTSLICES, "default", label_selector="kubernetes.io/service-name=web")[0]
    assert len(slices) == 1
    assert {e["addresses"][0] for e in slices[0]["endpoints"] if e["conditions"]["ready"]} == pod_ips
    sandbox.kubectl("scale", "deployment/web", "--replicas=1")
    sandbox.wait("--for=jsonpath={.status.replicas}=1", "deployment/web")
    remaining = {p["status"]["podIP"] for p in _json(sandbox, "pods", "-l", "app=web")["items"]}
    ep = _json(sandbox, "endpoints", "web")
    assert {a["ip"] for a in ep["subsets"][0]["addresses"]} == remaining


def test_load_balancer_service_gets_the_cluster_address(tmp_path):
    from cluster_fixtures import start_sandbox

    sb = start_sandbox(tmp_path, lb_address="127.0.0.7")
    try:
        sb.kubectl("apply", "-f", "-", input=service_yaml("web", type="LoadBalancer"))
        sb.wait("--for=jsonpath={.status.loadBalancer.ingress[0].ip}=127.0.0.7", "service/web")
        table = sb.kubectl("get", "service", "web").stdout
        assert "127.0.0.7" in table and "LoadBalancer" in table
        ports = _json(sb, "service", "web")["spec"]["ports"]
        assert 30000 <= ports[0]["nodePort"] <= 32767
    finally:
        sb.cluster.stop()


def test_deleting_a_namespace_removes_its_contents(sandbox):
    sandbox.kubectl("create", "namespace", "shop")
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", ns="shop") + "---\n" + service_yaml("web", ns="shop"))
    sandbox.kubectl("rollout", "status", "-n", "shop", "deployment/web", "--timeout=30s")
    sandbox.kubectl("delete", "namespace", "shop", "--timeout=30s")
    gone = sandbox.kubectl("get", "namespace", "shop", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    leftovers = [(gr, o["metadata"]["name"]) for gr in sandbox.store.kinds()
                 for o in sandbox.store.list(gr, "shop")[0]]
    assert leftovers == []


def test_new_namespace_gets_default_service_account_and_ca(sandbox):
    sandbox.kubectl("create", "namespace", "team")
    sandbox.wait("--for=create", "-n", "team", "serviceaccount/default")
    sandbox.wait("--for=create", "-n", "team", "configmap/kube-root-ca.crt")


def test_owner_references_are_garbage_collected(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", replicas=2))
    sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert len(sandbox.store.list(PODS, "default", label_selector="app=web")[0]) == 2
    sandbox.kubectl("delete", "deployment", "web", "--cascade=background")
    sandbox.wait("--for=delete", "replicaset", "-l", "app=web")
    sandbox.wait("--for=delete", "pod", "-l", "app=web")
    assert sandbox.store.list(PODS, "default", label_selector="app=web")[0] == []
    # A ConfigMap owned by another ConfigMap goes when its owner goes (any kind, not just workloads).
    sandbox.kubectl("create", "configmap", "owner")
    uid = _json(sandbox, "configmap", "owner")["metadata"]["uid"]
    dependent = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "dependent", "ownerReferences": [
                     {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}}
    sandbox.kubectl("apply", "-f", "-", input=json.dumps(dependent))
    sandbox.kubectl("delete", "configmap", "owner")
    sandbox.wait("--for=delete", "configmap/dependent")


def test_initial_objects_node_and_kubernetes_service(sandbox):
    node = _json(sandbox, "node", "sandbox-control-plane")
    labels = node["metadata"]["labels"]
    assert labels["gateway-tutorial.dev/sandbox"] == "true"
    assert "node-role.kubernetes.io/control-plane" in labels
    assert "Ready" in sandbox.kubectl("get", "nodes").stdout
    names = sandbox.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system", "namespace/kube-public",
            "namespace/kube-node-lease"} <= set(names)
    assert _json(sandbox, "service", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"


def test_logs_and_events_of_a_pod(sandbox):
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml("web", image="docker.l5d.io/buoyantio/emojivoto-web:v11"))
    sandbox.kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert "Starting web server" in sandbox.kubectl("logs", "deployment/web").stdout
    pod = _json(sandbox, "pods", "-l", "app=web")["items"][0]["metadata"]["name"]
    events = sandbox.kubectl("get", "events", "--field-selector", f"involvedObject.name={pod}").stdout
    for reason in ("Scheduled", "Pulled", "Created", "Started"):
        assert reason in events
    assert "Successfully assigned default/" in events
