"""Patch semantics: strategic merge (keys, directives), JSON merge patch, JSON patch."""

from __future__ import annotations

import pytest

from tutorial.sandbox.api import patch

DEPLOY = {"spec": {"template": {"spec": {"containers": [
    {"name": "web", "image": "a:1", "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
    {"name": "side", "image": "s:1"}]}}}}


def _containers(obj):
    return obj["spec"]["template"]["spec"]["containers"]


def test_strategic_merge_by_key_keeps_unmentioned_fields():
    p = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}],
        "containers": [{"name": "web", "image": "a:2",
                        "$setElementOrder/env": [{"name": "A"}, {"name": "B"}],
                        "env": [{"name": "B", "value": "22"}]}]}}}}
    out = patch.strategic_merge(DEPLOY, p)
    web, side = _containers(out)
    assert web["image"] == "a:2" and web["ports"] == DEPLOY["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "22"}]
    assert side == {"name": "side", "image": "s:1"}
    assert "$setElementOrder" not in repr(out)


def test_strategic_merge_delete_and_replace_directives():
    p = {"spec": {"template": {"spec": {"containers": [
        {"name": "side", "$patch": "delete"},
        {"name": "web", "ports": [{"containerPort": 8080}, {"containerPort": 80, "$patch": "delete"}],
         "env": [{"$patch": "replace"}, {"name": "C", "value": "3"}]}]}}}}
    out = patch.strategic_merge(DEPLOY, p)
    (web,) = _containers(out)
    assert web["ports"] == [{"containerPort": 8080}]
    assert web["env"] == [{"name": "C", "value": "3"}]
    assert "$patch" not in repr(out)


def test_strategic_merge_map_directives_and_null_removal():
    orig = {"metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x", "y"]},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    p = {"metadata": {"labels": {"a": None, "c": "3"}, "$deleteFromPrimitiveList/finalizers": ["x"]},
         "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    out = patch.strategic_merge(orig, p)
    assert out["metadata"] == {"labels": {"b": "2", "c": "3"}, "finalizers": ["y"]}
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    assert "strategy" not in patch.strategic_merge(orig, {"spec": {"strategy": {"$patch": "delete"}}})["spec"]
    whole = patch.strategic_merge(orig, {"spec": {"$patch": "replace", "paused": True}})
    assert whole["spec"] == {"paused": True}
    assert orig["metadata"]["labels"] == {"a": "1", "b": "2"}  # inputs untouched


def test_service_ports_merge_by_port():
    svc = {"spec": {"ports": [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}]}}
    out = patch.strategic_merge(svc, {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}})
    assert out["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                                    {"port": 443}]


def test_json_merge_patch_rfc7386():
    assert patch.json_merge({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None, "d": 3}, "l": [3]}) == \
        {"a": {"c": 2, "d": 3}, "l": [3]}


def test_json_patch_rfc6902():
    doc = {"a": [1, 2], "b": {"c": 1}}
    out = patch.json_patch(doc, [
        {"op": "add", "path": "/a/-", "value": 3}, {"op": "replace", "path": "/b/c", "value": 2},
        {"op": "copy", "from": "/b", "path": "/d"}, {"op": "move", "from": "/d/c", "path": "/e"},
        {"op": "remove", "path": "/a/0"}, {"op": "test", "path": "/e", "value": 2},
        {"op": "add", "path": "/k~1v", "value": True}])
    assert out == {"a": [2, 3], "b": {"c": 2}, "d": {}, "e": 2, "k/v": True}
    with pytest.raises(patch.PatchError):
        patch.json_patch(doc, [{"op": "remove", "path": "/missing"}])
    with pytest.raises(patch.PatchError) as e:
        patch.json_patch(doc, {"op": "add"})
    assert e.value.code == 400


def test_apply_fieldsets_remove_what_a_manager_stopped_applying():
    before = {"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "web", "image": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}}},
        "metadata": {"finalizers": ["x"]}}
    after = {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "a", "env": [{"name": "A", "value": "1"}]}]}}}}
    prev_fs, new_fs = patch.fieldset(before), patch.fieldset(after)
    assert '{"name":"web"}' in repr(prev_fs) and "v:\"x\"" in repr(prev_fs)
    live = patch.strategic_merge(before, after)
    live["metadata"]["labels"] = {"owned": "elsewhere"}
    patch.remove_fields(live, patch.fieldset_removed(prev_fs, new_fs))
    assert "replicas" not in live["spec"]
    assert live["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    assert live["metadata"] == {"labels": {"owned": "elsewhere"}}
