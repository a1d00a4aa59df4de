"""Field ownership of every write through real kubectl 1.32: managedFields for create, edit, scale,
client-side apply, and server-side apply conflicts with those managers.

Expected words from upstream: the conflict message and manager wording from
k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go (printManager: an Update manager is
named `"m" using <apiVersion>`), the upgrade from client-side apply from
internal/lastappliedmanager.go and lastappliedupdater.go, and kubectl's own migration
(k8s.io/kubectl/pkg/cmd/apply/apply.go migrateToSSAIfNecessary: managers kubectl-last-applied, kubectl).
"""

from __future__ import annotations

import json
import subprocess

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{a: '{a}', b: x}}\n"
SSA = ("apply", "--server-side", "-f", "-")


def _entries(api, *what) -> dict:
    obj = json.loads(api.kubectl("get", *what, "-o", "json", "--show-managed-fields").stdout)
    return {(e["manager"], e["operation"]): e for e in obj["metadata"].get("managedFields") or []}


def _edit(api, *what, script: str) -> subprocess.CompletedProcess:
    """kubectl edit with a non-interactive editor (KUBE_EDITOR runs sed on the temp file)."""
    env = {"HOME": str(api.home), "PATH": "/usr/bin:/bin", "KUBECONFIG": str(api.kubeconfig),
           "KUBE_EDITOR": f"sed -i {script}"}
    return subprocess.run(["kubectl", "edit", *what], env=env, capture_output=True, text=True, timeout=60)


def test_create_records_an_update_entry_like_a_real_server(api):
    api.kubectl("create", "deploy", "web", "--image=nginx", "--replicas=2")
    entry = _entries(api, "deploy", "web")[("kubectl-create", "Update")]
    assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1" and "subresource" not in entry
    fields = entry["fieldsV1"]
    # maps and list items that appear are owned themselves (`.`); Go's zero-value structs are not
    assert fields["f:metadata"] == {"f:labels": {".": {}, "f:app": {}}}
    assert fields["f:spec"]["f:replicas"] == {} and fields["f:spec"]["f:selector"] == {}  # selector is atomic
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert container["."] == {} and container["f:image"] == {}
    assert "." not in fields["f:spec"] and "." not in fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert "managedFields" not in api.kubectl("get", "deploy", "web", "-o", "yaml").stdout  # hidden by default


def test_server_side_apply_conflicts_with_client_side_apply_and_force_takes_over(api):
    api.kubectl("apply", "-f", "-", input=CM.format(a=1))
    owned = _entries(api, "cm", "c")[("kubectl-client-side-apply", "Update")]["fieldsV1"]
    assert owned["f:data"] == {".": {}, "f:a": {}, "f:b": {}}
    assert "f:kubectl.kubernetes.io/last-applied-configuration" in owned["f:metadata"]["f:annotations"]
    proc = api.kubectl(*SSA, "--field-manager=bob", input=CM.format(a=2), check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith('error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" '
                                  "using v1: .data.a\nPlease review the fields above")
    assert json.loads(api.kubectl("get", "cm", "c", "-o", "json").stdout)["data"]["a"] == "1"
    api.kubectl(*SSA, "--field-manager=bob", "--force-conflicts", input=CM.format(a=2))
    assert json.loads(api.kubectl("get", "cm", "c", "-o", "json").stdout)["data"] == {"a": "2", "b": "x"}
    # bob took .data.a; then kubectl itself moved what the client-side applier still owned (.data.b,
    # the annotation) to bob (csaupgrade) and applied again, which drops the annotation bob did not apply
    entries = _entries(api, "cm", "c")
    assert set(entries) == {("bob", "Apply")}
    assert entries[("bob", "Apply")]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}


def test_edit_and_scale_take_fields_from_the_creator(api):
    api.kubectl("create", "deploy", "web", "--image=nginx", "--replicas=2")
    api.kubectl("scale", "deploy", "web", "--replicas=3")
    scaled = _entries(api, "deploy", "web")[("kubectl", "Update")]  # no --field-manager: the User-Agent's name
    assert scaled["subresource"] == "scale" and scaled["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    proc = _edit(api, "deploy", "web", script="s/replicas:\\ 3/replicas:\\ 4/")
    assert proc.returncode == 0 and "deployment.apps/web edited" in proc.stdout
    entries = _entries(api, "deploy", "web")
    assert entries[("kubectl-edit", "Update")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert ("kubectl", "Update") not in entries  # the scaler owned nothing any more
    assert "f:replicas" not in entries[("kubectl-create", "Update")]["fieldsV1"]["f:spec"]
    manifest = api.kubectl("create", "deploy", "web", "--image=nginx", "--replicas=5", "--dry-run=client",
                           "-o", "yaml").stdout
    proc = api.kubectl(*SSA, "--field-manager=bob", input=manifest, check=False)
    assert 'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas' in proc.stderr


def test_kubectl_moves_a_client_side_applied_object_to_server_side_apply_without_conflicts(api):
    api.kubectl("apply", "-f", "-", input=CM.format(a=1))
    proc = api.kubectl(*SSA, input=CM.format(a=3))  # manager kubectl: the last-applied fields are its own
    assert proc.stdout.strip() == "configmap/c serverside-applied" and not proc.stderr
    entries = _entries(api, "cm", "c")
    assert set(entries) == {("kubectl", "Apply"), ("kubectl-last-applied", "Apply")}
    assert entries[("kubectl", "Apply")]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    obj = json.loads(api.kubectl("get", "cm", "c", "-o", "json").stdout)
    assert obj["data"]["a"] == "3"
    last = json.loads(obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["data"] == {"a": "3", "b": "x"}  # kept in step by the server
    proc = api.kubectl(*SSA, "--field-manager=bob", input=CM.format(a=4), check=False)
    assert 'conflict with "kubectl": .data.a' in proc.stderr  # an Apply manager: no version named


def test_a_changed_value_not_in_last_applied_still_conflicts_for_kubectl(api):
    api.kubectl("apply", "-f", "-", input=CM.format(a=1))
    api.kubectl("patch", "cm", "c", "-p", '{"data": {"b": "y"}}')  # kubectl-patch owns .data.b; last-applied says x
    proc = api.kubectl(*SSA, input=CM.format(a=3), check=False)
    assert proc.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.b' in proc.stderr
