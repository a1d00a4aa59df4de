"""Reset trusts nothing in the journal ConfigMap (issue 19): recorded uid + live uid + ownership
annotation, never a baseline namespace/CRD, never the cluster's own namespaces; a journal failing
validation is refused naming the key; --dry-run shows what is refused and why."""

from __future__ import annotations

import json

import pytest

from fleetlab import cli

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


@pytest.fixture
def lab(fleet_lab, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per message, for the assertions
    return fleet_lab(1)


def kc(lab) -> list[str]:
    return ["--kubeconfig", str(lab.kubeconfig), "--context", "lab01"]


def uid(lab, *what) -> str:
    return json.loads(lab.kubectl("lab01", "get", *what, "-o", "json").stdout)["metadata"]["uid"]


def cm(lab) -> dict:
    return json.loads(lab.kubectl("lab01", "get", "configmap", "-n", "kube-system", "gateway-tutorial-journal",
                                  "-o", "json").stdout)


def put(lab, doc: dict) -> None:
    doc["metadata"].pop("resourceVersion", None)
    lab.kubectl("lab01", "replace", "-f", "-", input=json.dumps(doc))


def ref(api_version, kind, name, namespace=None, uid=None) -> dict:
    out = {"api_version": api_version, "kind": kind, "name": name}
    if namespace:
        out["namespace"] = namespace
    if uid is not None:
        out["uid"] = uid
    return out


def test_hand_added_entries_are_refused_with_why(lab):
    lab.kubectl("lab01", "create", "namespace", "keepme")
    lab.kubectl("lab01", "create", "configmap", "precious", "-n", "keepme", "--from-literal=a=b")
    lab.kubectl("lab01", "apply", "-f", "-", input=CRD)
    lab.kubectl("lab01", "create", "clusterrole", "someones", "--verb=get", "--resource=pods")
    lab.kubectl("lab01", "create", "configmap", "mine", "-n", "default", "--from-literal=a=b")
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    doc = cm(lab)
    entry = json.loads(doc["data"]["step.emojivoto.namespace"])
    entry["created"] += [
        ref("v1", "Namespace", "keepme", uid=uid(lab, "ns", "keepme")),
        ref("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com",
            uid=uid(lab, "crd", "widgets.example.com")),
        ref("rbac.authorization.k8s.io/v1", "ClusterRole", "someones"),  # no uid
        ref("v1", "ConfigMap", "mine", "default", uid=uid(lab, "configmap", "mine", "-n", "default")),
        ref("v1", "ConfigMap", "coredns-x", "kube-system", uid="0000"),
    ]
    entry["kept"].append(ref("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"))
    doc["data"]["step.emojivoto.namespace"] = json.dumps(entry)
    put(lab, doc)

    code, out = cli("reset", *kc(lab), "--dry-run")
    assert code == 0, out
    assert "Namespace keepme and everything in it: it lacks the tutorial's gateway-tutorial.io/created-by" in out
    assert "CustomResourceDefinition widgets.example.com: it lacks the tutorial" in out
    assert "ClusterRole someones: its journal entry has no uid" in out
    assert "ConfigMap default/mine: it is in default, which belongs to the cluster" in out
    assert "ConfigMap kube-system/coredns-x: it is in kube-system" in out
    assert out.count("refused") >= 5

    code, out = cli("reset", *kc(lab), "--yes")
    assert code == 0, out
    assert "keepme" in lab.names("lab01", "ns") and "emojivoto" not in lab.names("lab01", "ns")
    assert lab.names("lab01", "configmap", "keepme") >= {"precious"}
    assert "someones" in lab.names("lab01", "clusterrole")
    assert "widgets.example.com" in lab.names("lab01", "crd")
    assert "mine" in lab.names("lab01", "configmap", "default")
    assert "refused 5" in out


def test_a_namespace_from_the_baseline_is_never_deleted(lab):
    lab.kubectl("lab01", "create", "namespace", "emojivoto")  # someone's, before the first step
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    doc = cm(lab)
    baseline = json.loads(doc["data"]["baseline"])
    assert baseline["namespaces"]["emojivoto"] == uid(lab, "ns", "emojivoto")
    assert "kube-system" in baseline["namespaces"]
    # even an entry claiming it, on an object someone annotated as the tutorial's:
    lab.kubectl("lab01", "annotate", "namespace", "emojivoto", "gateway-tutorial.io/created-by=x")
    entry = json.loads(doc["data"]["step.emojivoto.namespace"])
    entry["created"].append(ref("v1", "Namespace", "emojivoto", uid=uid(lab, "ns", "emojivoto")))
    doc["data"]["step.emojivoto.namespace"] = json.dumps(entry)
    put(lab, doc)
    code, out = cli("reset", *kc(lab), "--dry-run")
    assert "existed before the tutorial's first step" in out, out
    code, out = cli("reset", *kc(lab), "--yes")
    assert code == 0 and "emojivoto" in lab.names("lab01", "ns"), out


def test_what_the_tutorial_created_carries_the_annotation_and_is_deleted(lab):
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    ns = json.loads(lab.kubectl("lab01", "get", "ns", "emojivoto", "-o", "json").stdout)
    assert ns["metadata"]["annotations"]["gateway-tutorial.io/created-by"] == "emojivoto/namespace"
    code, out = cli("reset", *kc(lab), "--yes")
    assert code == 0 and "refused" not in out and "emojivoto" not in lab.names("lab01", "ns"), out


@pytest.mark.parametrize("key,value,named", [
    ("format", "2", "'format'"),
    ("step.emojivoto.namespace", json.dumps({"target": "emojivoto/namespace", "created": "oops"}),
     "'step.emojivoto.namespace': created must be a list"),
    ("step.emojivoto.namespace", json.dumps({"target": "emojivoto/namespace", "created": [{"kind": 3}]}),
     "created[0].api_version must be a string"),
    ("step.emojivoto.namespace", json.dumps({"target": "other/step"}), "does not match the key"),
    ("step.emojivoto.namespace", "[" * 5000 + "]" * 5000, "nested deeper"),
    ("step.emojivoto.namespace", "{not json", "not valid JSON"),
    ("surprise", "x", "'surprise': is not a key the tutorial writes"),
    ("baseline", json.dumps({"namespaces": {"a": 1}}), "namespaces.a must be a string"),
])
def test_a_journal_failing_validation_is_refused_naming_the_key(lab, key, value, named):
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    doc = cm(lab)
    doc["data"][key] = value
    put(lab, doc)
    for argv in (("--dry-run",), ("--yes",)):
        code, out = cli("reset", *kc(lab), *argv)
        assert code == 1 and named in out and "Traceback" not in out, out
        assert "fails validation" in out and "nothing was changed" in out
    assert "emojivoto" in lab.names("lab01", "ns")


def test_dry_run_shows_invisible_characters_of_journal_names(lab):
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    doc = cm(lab)
    entry = json.loads(doc["data"]["step.emojivoto.namespace"])
    entry["created"].append(ref("v1", "ConfigMap", "ok\x1b[2K\rgone", "emojivoto-x", uid="1"))
    doc["data"]["step.emojivoto.namespace"] = json.dumps(entry)
    put(lab, doc)
    code, out = cli("reset", *kc(lab), "--dry-run")
    assert code == 0 and "\x1b[2K" not in out and "\r" not in out, out
    assert "ok\\x1b[2K\\x0dgone" in out


@pytest.mark.parametrize("argv", [("status",), ("status", "--json"), ("reset", "--dry-run")])
def test_fleet_commands_say_when_a_progress_file_was_moved_aside(lab, tmp_path, argv):
    from tutorial.engine.progress import ProgressStore

    path = ProgressStore.for_cluster("lab01", lab.servers["lab01"], state_dir=tmp_path / "state").path
    path.write_bytes("{}".encode("utf-16"))
    code, out = cli(*argv, *kc(lab))
    flat = " ".join(out.split())
    (aside,) = path.parent.glob(f"{path.stem}.corrupt-*.json")
    assert code == 0 and f"{path} could not be used" in flat and f"moved to {aside}" in flat, out
    assert "not kept" in flat and "Traceback" not in out, out
