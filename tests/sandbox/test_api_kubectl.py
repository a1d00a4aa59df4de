"""Real kubectl against the sandbox API server: create, apply (client/server side, -k), get, describe,
wait, delete, api-resources, events. One server for the module; each test uses its own namespace."""

from __future__ import annotations

import json
import textwrap

import pytest

from crdyaml import crd_yaml

DEPLOY_SVC = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - {{name: http, containerPort: {port}}}
        env:
        - {{name: MODE, value: "{mode}"}}
        - {{name: KEEP, value: "yes"}}
        volumeMounts:
        - {{name: data, mountPath: /data}}
      - name: sidecar
        image: busybox:1.36
      volumes:
      - name: data
        emptyDir: {{}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}, labels: {{app: web}}}}
spec:
  selector: {{app: web}}
  ports:
  - {{name: http, port: 80, targetPort: {port}}}{extra_port}
"""


@pytest.fixture(scope="module")
def k(module_api):
    return module_api


def _json(k, *args):
    return json.loads(k.kubectl(*args, "-o", "json").stdout)


def _no_directives(value, path="") -> list[str]:
    if isinstance(value, dict):
        bad = [f"{path}.{key}" for key in value if key.startswith("$")]
        return bad + [b for key, v in value.items() for b in _no_directives(v, f"{path}.{key}")]
    if isinstance(value, list):
        return [b for n, v in enumerate(value) for b in _no_directives(v, f"{path}[{n}]")]
    return []


def test_create_namespace_via_protobuf_gets_name_label(k):
    assert "namespace/proto created" in k.kubectl("create", "ns", "proto").stdout
    ns = _json(k, "get", "ns", "proto")
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "proto"}
    assert ns["status"]["phase"] == "Active"
    again = k.kubectl("create", "ns", "proto", check=False)
    assert again.returncode != 0 and "AlreadyExists" in again.stderr


def test_typed_creates_decode_protobuf(k):
    k.kubectl("create", "ns", "typed")
    k.kubectl("-n", "typed", "create", "deployment", "api", "--image=nginx:1.27", "--port=8080", "--replicas=2")
    k.kubectl("-n", "typed", "create", "configmap", "cfg", "--from-literal=color=blue")
    k.kubectl("-n", "typed", "create", "secret", "generic", "pw", "--from-literal=pw=s3cret")
    k.kubectl("-n", "typed", "create", "serviceaccount", "bot")
    d = _json(k, "-n", "typed", "get", "deploy", "api")
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert d["spec"]["replicas"] == 2 and d["spec"]["selector"]["matchLabels"] == {"app": "api"}
    assert c["image"] == "nginx:1.27" and c["ports"][0]["containerPort"] == 8080
    assert _json(k, "-n", "typed", "get", "cm", "cfg")["data"] == {"color": "blue"}
    assert _json(k, "-n", "typed", "get", "secret", "pw")["data"] == {"pw": "czNjcmV0"}
    assert _json(k, "-n", "typed", "get", "sa", "bot")["metadata"]["name"] == "bot"
    k.kubectl("-n", "typed", "create", "role", "reader", "--verb=get,list", "--resource=pods")
    k.kubectl("-n", "typed", "create", "rolebinding", "bot-reads", "--role=reader", "--serviceaccount=typed:bot")
    role = _json(k, "-n", "typed", "get", "role", "reader")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    binding = _json(k, "-n", "typed", "get", "rolebinding", "bot-reads")
    assert binding["roleRef"]["name"] == "reader" and binding["subjects"][0]["name"] == "bot"
    k.kubectl("apply", "-f", "-", input="apiVersion: v1\nkind: Secret\nmetadata: {name: sd, namespace: typed}\n"
                                        "stringData: {token: abc}\n")
    secret = _json(k, "-n", "typed", "get", "secret", "sd")
    assert secret["data"] == {"token": "YWJj"} and "stringData" not in secret


def test_apply_then_reapply_changes_merge_without_losing_fields(k):
    k.kubectl("create", "ns", "apply1")
    first = DEPLOY_SVC.format(ns="apply1", replicas=1, port=80, mode="a", extra_port="")
    out = k.kubectl("apply", "-f", "-", input=first).stdout
    assert "deployment.apps/web created" in out and "service/web created" in out
    second = DEPLOY_SVC.format(ns="apply1", replicas=3, port=8080, mode="b",
                               extra_port="\n  - {name: grpc, port: 9090, targetPort: 9090}")
    out = k.kubectl("apply", "-f", "-", input=second).stdout
    assert "deployment.apps/web configured" in out and "service/web configured" in out
    d = _json(k, "-n", "apply1", "get", "deploy", "web")
    assert d["spec"]["replicas"] == 3 and d["metadata"]["generation"] == 2
    web, side = d["spec"]["template"]["spec"]["containers"]
    assert (web["name"], side["name"], side["image"]) == ("web", "sidecar", "busybox:1.36")
    assert [(p["name"], p["containerPort"]) for p in web["ports"]] == [("http", 8080)]
    assert web["env"] == [{"name": "MODE", "value": "b"}, {"name": "KEEP", "value": "yes"}]
    assert web["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert d["spec"]["template"]["spec"]["volumes"] == [{"name": "data", "emptyDir": {}}]
    s = _json(k, "-n", "apply1", "get", "svc", "web")
    assert [(p["name"], p["port"], p["targetPort"]) for p in s["spec"]["ports"]] == [
        ("http", 80, 8080), ("grpc", 9090, 9090)]
    assert _no_directives(d) == [] and _no_directives(s) == []
    # unchanged re-apply is a no-op
    assert "unchanged" in k.kubectl("apply", "-f", "-", input=second).stdout


def test_apply_kustomization(k, tmp_path):
    k.kubectl("create", "ns", "kust")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
                                      "data: {level: debug}\n")
    (tmp_path / "kustomization.yaml").write_text(textwrap.dedent("""\
        namespace: kust
        commonLabels: {team: edge}
        resources: [cm.yaml]
        """))
    assert "configmap/settings created" in k.kubectl("apply", "-k", str(tmp_path)).stdout
    cm = _json(k, "-n", "kust", "get", "cm", "settings")
    assert cm["metadata"]["labels"] == {"team": "edge"} and cm["data"] == {"level": "debug"}


def test_apply_server_side_creates_then_merges(k):
    k.kubectl("create", "ns", "ssa")
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: ssa}\ndata: {a: '1'}\n"
    assert "serverside-applied" in k.kubectl("apply", "--server-side", "-f", "-", input=cm).stdout
    k.kubectl("apply", "--server-side", "-f", "-", input=cm.replace("{a: '1'}", "{a: '2', b: '3'}"))
    assert _json(k, "-n", "ssa", "get", "cm", "ssa")["data"] == {"a": "2", "b": "3"}
    # another manager's field survives; a field this manager stops applying is removed
    k.kubectl("-n", "ssa", "patch", "cm", "ssa", "--type=merge", "-p", '{"data": {"other": "x"}}')
    k.kubectl("apply", "--server-side", "-f", "-", input=cm.replace("{a: '1'}", "{b: '4'}"))
    assert _json(k, "-n", "ssa", "get", "cm", "ssa")["data"] == {"b": "4", "other": "x"}


def test_get_output_formats_selectors_and_columns(k):
    k.kubectl("create", "ns", "getting")
    k.kubectl("apply", "-f", "-", input=DEPLOY_SVC.format(ns="getting", replicas=2, port=80, mode="x",
                                                           extra_port=""))
    k.kubectl("-n", "getting", "create", "configmap", "other", "--from-literal=x=y")
    wide = k.kubectl("-n", "getting", "get", "deploy", "-o", "wide").stdout
    assert wide.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS",
                                           "IMAGES", "SELECTOR"]
    assert "nginx:1.27,busybox:1.36" in wide and "0/2" in wide
    svc = k.kubectl("-n", "getting", "get", "svc").stdout
    assert svc.split("\n")[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert "80/TCP" in svc
    assert k.kubectl("-n", "getting", "get", "deploy,svc", "-o", "name").stdout.split() == [
        "deployment.apps/web", "service/web"]
    assert "app: web" in k.kubectl("-n", "getting", "get", "deploy", "web", "-o", "yaml").stdout
    labelled = k.kubectl("-n", "getting", "get", "all,cm", "-l", "app=web", "-o", "name").stdout.split()
    assert "configmap/other" not in labelled and "service/web" in labelled
    everywhere = k.kubectl("get", "deploy", "-A").stdout
    assert everywhere.split("\n")[0].split()[0] == "NAMESPACE" and "getting" in everywhere
    assert "app=web" in k.kubectl("-n", "getting", "get", "svc", "--show-labels").stdout
    pods = k.kubectl("-n", "getting", "get", "pods").stderr
    assert "No resources found in getting namespace." in pods


def test_describe_works_for_builtin_kinds(k):
    k.kubectl("create", "ns", "desc")
    k.kubectl("apply", "-f", "-", input=DEPLOY_SVC.format(ns="desc", replicas=1, port=80, mode="x", extra_port=""))
    out = k.kubectl("-n", "desc", "describe", "deploy", "web").stdout
    assert "Replicas:" in out and "MODE:" in out and "8080" not in out and "80/TCP" in out
    assert "Selector:" in k.kubectl("-n", "desc", "describe", "svc", "web").stdout
    assert "Status:" in k.kubectl("describe", "ns", "desc").stdout


def test_wait_for_jsonpath_and_delete_f(k):
    k.kubectl("create", "ns", "waiting")
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w, namespace: waiting}\ndata: {ready: 'yes'}\n"
    k.kubectl("apply", "-f", "-", input=manifest)
    out = k.kubectl("-n", "waiting", "wait", "--for=jsonpath={.data.ready}=yes", "cm/w", "--timeout=20s").stdout
    assert "condition met" in out
    assert 'configmap "w" deleted' in k.kubectl("delete", "-f", "-", input=manifest).stdout
    missing = k.kubectl("-n", "waiting", "get", "cm", "w", check=False)
    assert missing.returncode == 1 and 'configmaps "w" not found' in missing.stderr


def test_wait_for_crd_established(k):
    crd = crd_yaml("example.com", "Widget", "widgets", """\
            type: object
            properties:
              size: {type: string, default: medium}
    additionalPrinterColumns:
    - {name: Size, type: string, jsonPath: .spec.size}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
""", short_names=("wdg",))
    k.kubectl("apply", "-f", "-", input=crd)
    assert "condition met" in k.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com",
                                        "--timeout=20s").stdout
    k.kubectl("create", "ns", "widgets")
    k.kubectl("apply", "-f", "-", input="apiVersion: example.com/v1\nkind: Widget\n"
                                        "metadata: {name: w1, namespace: widgets}\nspec: {}\n")
    table = k.kubectl("-n", "widgets", "get", "wdg").stdout.split("\n")
    assert table[0].split() == ["NAME", "SIZE", "AGE"] and table[1].split()[:2] == ["w1", "medium"]
    k.kubectl("apply", "-f", "-", input="apiVersion: example.com/v1\nkind: Widget\n"
                                        "metadata: {name: w1, namespace: widgets}\nspec: {size: large}\n")
    assert _json(k, "-n", "widgets", "get", "widget", "w1")["spec"]["size"] == "large"


def test_api_resources_and_events(k):
    res = k.kubectl("api-resources").stdout
    for line in ("deployments  deploy  apps/v1  true  Deployment", "namespaces  ns  v1  false  Namespace",
                 "services  svc  v1  true  Service"):
        assert line.split() in [row.split() for row in res.splitlines()]
    k.kubectl("create", "ns", "ev")
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1", "namespace": "ev"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "ev"},
             "reason": "Pulled", "message": "Successfully pulled image", "type": "Normal",
             "lastTimestamp": "2024-01-01T00:00:00Z"}
    k.kubectl("create", "-f", "-", input=json.dumps(event))
    out = k.kubectl("-n", "ev", "get", "events").stdout
    assert out.split("\n")[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "pod/web-1" in out and "Successfully pulled image" in out


def test_namespace_delete_marks_terminating_and_blocks_creates(k):
    k.kubectl("create", "ns", "doomed")
    k.kubectl("delete", "ns", "doomed", "--wait=false")
    ns = _json(k, "get", "ns", "doomed")
    assert ns["status"]["phase"] == "Terminating" and ns["metadata"]["deletionTimestamp"]
    refused = k.kubectl("-n", "doomed", "create", "configmap", "x", check=False)
    assert refused.returncode != 0 and "because it is being terminated" in refused.stderr
    missing = k.kubectl("-n", "nowhere", "create", "configmap", "x", check=False)
    assert missing.returncode != 0 and 'namespaces "nowhere" not found' in missing.stderr


def test_imperative_commands_run_logs_scale_label_expose_auth(k):
    k.kubectl("create", "ns", "imp")
    k.kubectl("-n", "imp", "run", "p1", "--image=nginx:1.27", "--port=80", "--labels=app=p")
    # no controllers here, so no node: a real API server answers an empty log (see test_pod_logs.py)
    assert k.kubectl("-n", "imp", "logs", "p1").stdout == ""
    k.kubectl("-n", "imp", "create", "deployment", "web", "--image=nginx:1.27")
    k.kubectl("-n", "imp", "scale", "deploy", "web", "--replicas=3")
    k.kubectl("-n", "imp", "label", "deploy", "web", "tier=fe")
    k.kubectl("-n", "imp", "set", "image", "deploy/web", "nginx=nginx:1.28")
    k.kubectl("-n", "imp", "expose", "deploy", "web", "--port=80", "--target-port=8080")
    d = _json(k, "-n", "imp", "get", "deploy", "web")
    assert d["spec"]["replicas"] == 3 and d["metadata"]["labels"]["tier"] == "fe"
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    svc = _json(k, "-n", "imp", "get", "svc", "web")
    assert svc["spec"]["ports"][0]["targetPort"] == 8080 and svc["spec"]["selector"] == {"app": "web"}
    assert k.kubectl("auth", "can-i", "create", "pods").stdout.strip() == "yes"


def test_unknown_kind_gets_kubectls_install_crds_first_error(k):
    proc = k.kubectl("apply", "-f", "-", check=False,
                     input="apiVersion: nothing.example.com/v1\nkind: Nothing\nmetadata: {name: thing}\n")
    assert proc.returncode != 0
    assert 'no matches for kind "Nothing" in version "nothing.example.com/v1"' in proc.stderr
    assert "ensure CRDs are installed first" in proc.stderr


def test_invalid_object_message_names_the_kind(k):
    proc = k.kubectl("create", "ns", "Not_Valid", check=False)
    assert proc.returncode != 0
    assert 'The Namespace "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"' in proc.stderr


def test_nodes_table_and_exec_is_explained(k):
    k.store.create(("", "nodes"), {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "sandbox-node", "labels": {"node-role.kubernetes.io/control-plane": ""}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
                   "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Sandbox", "kernelVersion": "6.0",
                                "containerRuntimeVersion": "sim://1"}}})
    rows = [r.split() for r in k.kubectl("get", "nodes", "-o", "wide").stdout.splitlines()]
    assert rows[0][:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    assert rows[1][:3] == ["sandbox-node", "Ready", "control-plane"] and "10.0.0.1" in rows[1]
    k.kubectl("create", "ns", "execing")
    k.kubectl("-n", "execing", "run", "p", "--image=busybox:1.36")
    proc = k.kubectl("-n", "execing", "exec", "p", "--", "ls", check=False)
    assert proc.returncode != 0 and 'container not found ("p")' in proc.stderr  # not running yet


def test_get_watch_prints_table_rows_as_objects_change(k):
    import shutil
    import subprocess

    KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"  # not `from conftest`: another dir's conftest may be the one imported
    k.kubectl("create", "ns", "watched")
    k.kubectl("-n", "watched", "create", "configmap", "first", "--from-literal=a=b")
    proc = subprocess.Popen([KUBECTL, "--kubeconfig", str(k.kubeconfig), "-n", "watched", "get", "cm", "-w",
                             "--request-timeout=60s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"HOME": str(k.home), "PATH": "/usr/bin:/bin"})
    try:
        assert proc.stdout.readline().split() == ["NAME", "DATA", "AGE"]
        assert proc.stdout.readline().split()[:2] == ["first", "1"]
        k.kubectl("-n", "watched", "create", "configmap", "second")
        assert proc.stdout.readline().split()[:2] == ["second", "0"]
    finally:
        proc.kill()
        proc.communicate(timeout=30)
