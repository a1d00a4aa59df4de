"""Store contract: resourceVersions, conflicts, finalizers, selectors, watches, subscribers."""

from __future__ import annotations

import collections
import threading

import pytest

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.storage.store import Store

PODS = ("", "pods")
NS = ("", "namespaces")


def _pod(name, ns="default", labels=None, phase=None, node=None):
    obj = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "spec": {}}
    if node:
        obj["spec"]["nodeName"] = node
    if phase:
        obj["status"] = {"phase": phase}
    return obj


def test_create_sets_metadata_and_global_rv():
    s = Store()
    a = s.create(PODS, _pod("a"))
    b = s.create(("apps", "deployments"), {"metadata": {"name": "d", "namespace": "x"}, "spec": {}})
    assert a["metadata"]["uid"] and a["metadata"]["creationTimestamp"].endswith("Z")
    assert a["metadata"]["generation"] == 1
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1
    assert s.resource_version == int(b["metadata"]["resourceVersion"])
    with pytest.raises(st.AlreadyExists) as e:
        s.create(PODS, _pod("a"))
    assert e.value.code == 409 and 'pods "a" already exists' in e.value.message


def test_copies_are_not_shared():
    s = Store()
    obj = _pod("a")
    created = s.create(PODS, obj)
    created["metadata"]["labels"]["x"] = "y"
    obj["metadata"]["labels"]["z"] = "w"
    assert s.get(PODS, "default", "a")["metadata"]["labels"] == {}


def test_stored_objects_never_change_in_place():
    """Writes store new dicts, so a stored version (history, subscribers, peek) stays as it was."""
    s = Store()
    seen = []
    s.subscribe(lambda type_, gr, obj: seen.append((type_, obj)))
    s.create(PODS, _pod("a", labels={"v": "1"}))
    first = s.peek(PODS, "default", "a")
    first_rv = first["metadata"]["resourceVersion"]
    updated = s.get(PODS, "default", "a")
    updated["metadata"]["labels"]["v"] = "2"
    s.update(PODS, updated)
    s.delete(PODS, "default", "a")
    assert first["metadata"]["resourceVersion"] == first_rv and first["metadata"]["labels"] == {"v": "1"}
    assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert seen[0][1] is first  # subscribers get the stored object itself, no copy
    assert [o["metadata"]["labels"]["v"] for _, o in seen] == ["1", "2", "2"]
    rvs = [int(o["metadata"]["resourceVersion"]) for _, o in seen]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3  # the DELETED event has its own resourceVersion
    # a watch resumed from the start replays each version as it was
    w = s.watch(PODS, since_rv=0)
    replay = [w.next(1) for _ in range(3)]
    assert [(t, o["metadata"]["labels"]["v"]) for t, o in replay] == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")]


def test_names_and_peek_read_without_copies():
    s = Store()
    s.create(PODS, _pod("a"))
    s.create(PODS, _pod("b", ns="other"))
    s.create(NS, {"metadata": {"name": "other"}, "spec": {"finalizers": ["kubernetes"]}})
    s.delete(NS, None, "other")
    assert s.names(PODS, "default") == [("a", False)]
    assert s.names(PODS, "nowhere") == []
    assert s.names(NS, None) == [("other", True)]
    assert s.peek(PODS, "other", "b") is s.peek(PODS, "other", "b")
    assert s.peek(PODS, "default", "missing") is None
    assert s.get(NS, None, "other")["status"]["phase"] == "Terminating"


def test_copy_json_is_deep_and_unshares_aliases():
    shared = ["x"]
    doc = {"a": shared, "b": shared, "c": {"d": [{"e": 1}]}, "f": None, "g": 1.5, "h": True}
    out = st.copy_json(doc)
    assert out == doc
    assert out["a"] is not shared and out["a"] is not out["b"]
    out["c"]["d"][0]["e"] = 2
    assert doc["c"]["d"][0]["e"] == 1
    ordered = collections.OrderedDict(a=[{"b": 1}])  # subclasses are copied too, not shared
    copied = st.copy_json({"o": ordered, "l": [ordered]})
    assert copied["o"] is not ordered and copied["l"][0] is not ordered and copied["o"]["a"] is not ordered["a"]
    assert st.copy_json(ordered) is not ordered


def test_update_conflict_generation_and_status_kept():
    s = Store()
    a = s.create(PODS, _pod("a", phase="Running"))
    a["spec"]["nodeName"] = "n1"
    a.pop("status")
    b = s.update(PODS, a)
    assert b["metadata"]["generation"] == 2 and b["status"] == {"phase": "Running"}
    with pytest.raises(st.Conflict) as e:
        s.update(PODS, a)  # a carries the old resourceVersion
    assert e.value.code == 409 and "has been modified" in e.value.message
    b["status"] = {"phase": "Failed"}
    b["spec"]["nodeName"] = "ignored"
    c = s.update(PODS, b, subresource="status")
    assert c["status"]["phase"] == "Failed" and c["spec"]["nodeName"] == "n1"
    assert c["metadata"]["generation"] == 2
    with pytest.raises(st.NotFound):
        s.update(PODS, _pod("missing"))


def test_finalizers_delay_deletion():
    s = Store()
    obj = _pod("a")
    obj["metadata"]["finalizers"] = ["x/y"]
    s.create(PODS, obj)
    marked = s.delete(PODS, "default", "a")
    assert marked["metadata"]["deletionTimestamp"]
    assert s.get(PODS, "default", "a") is not None
    marked["metadata"]["finalizers"] = []
    s.update(PODS, marked)
    assert s.get(PODS, "default", "a") is None
    with pytest.raises(st.NotFound):
        s.delete(PODS, "default", "a")


def test_namespace_delete_goes_terminating_until_spec_finalizers_cleared():
    s = Store()
    s.create(st.NAMESPACES, {"metadata": {"name": "n"}, "spec": {"finalizers": ["kubernetes"]},
                              "status": {"phase": "Active"}})
    ns = s.delete(st.NAMESPACES, None, "n")
    assert ns["status"]["phase"] == "Terminating" and ns["metadata"]["deletionTimestamp"]
    ns["spec"]["finalizers"] = []
    s.update(st.NAMESPACES, ns)
    assert s.get(st.NAMESPACES, None, "n") is None


@pytest.mark.parametrize("selector,names", [
    ("app=web", ["a", "b"]), ("app==web", ["a", "b"]), ("app!=web", ["c", "d"]),
    ("app in (web, db)", ["a", "b", "c"]), ("app notin (web)", ["c", "d"]),
    ("tier", ["b"]), ("!tier", ["a", "c", "d"]), ("app=web,tier=fe", ["b"]), ("", ["a", "b", "c", "d"]),
])
def test_label_selectors(selector, names):
    s = Store()
    s.create(PODS, _pod("a", labels={"app": "web"}))
    s.create(PODS, _pod("b", labels={"app": "web", "tier": "fe"}))
    s.create(PODS, _pod("c", labels={"app": "db"}))
    s.create(PODS, _pod("d"))
    items, _ = s.list(PODS, label_selector=selector)
    assert [i["metadata"]["name"] for i in items] == names


def test_field_selectors_and_namespace_filter():
    s = Store()
    s.create(PODS, _pod("a", phase="Running", node="n1"))
    s.create(PODS, _pod("b", ns="other", phase="Pending"))
    assert [i["metadata"]["name"] for i in s.list(PODS, field_selector="status.phase=Running")[0]] == ["a"]
    assert [i["metadata"]["name"] for i in s.list(PODS, field_selector="spec.nodeName!=n1")[0]] == ["b"]
    assert [i["metadata"]["name"] for i in s.list(PODS, field_selector="metadata.name==b")[0]] == ["b"]
    assert [i["metadata"]["name"] for i in s.list(PODS, "other")[0]] == ["b"]
    assert s.list(PODS, field_selector="metadata.namespace=default,metadata.name=b")[0] == []
    with pytest.raises(st.StoreError) as e:
        s.list(PODS, label_selector="a b c")
    assert e.value.code == 400


def test_watch_replay_live_selector_and_gone():
    s = Store()
    s.create(PODS, _pod("a", labels={"app": "web"}))
    rv = s.resource_version
    b = s.create(PODS, _pod("b", labels={"app": "web"}))
    w = s.watch(PODS, "default", since_rv=rv, label_selector="app=web")
    first = w.next(1)
    assert (first[0], first[1]["metadata"]["name"]) == ("ADDED", "b")  # replayed from history
    b["metadata"]["labels"] = {"app": "other"}
    s.update(PODS, b)  # leaves the selector: seen as DELETED
    s.create(PODS, _pod("c", labels={"app": "web"}))
    s.delete(PODS, "default", "c")
    seen = [(t, o["metadata"]["name"]) for t, o in iter(lambda: w.next(0.5), None)]
    assert seen == [("DELETED", "b"), ("ADDED", "c"), ("DELETED", "c")]
    w.close()
    assert w.next(0.1) is None
    small = Store()
    small._history = type(small._history)(maxlen=3)
    for i in range(6):
        small.create(PODS, _pod(f"p{i}"))
    with pytest.raises(st.Gone) as e:
        small.watch(PODS, since_rv=1)
    assert e.value.code == 410


def test_subscribers_outside_lock_in_order_and_reentrant():
    s = Store()
    seen = []

    def cb(type_, gr, obj):
        seen.append((type_, obj["metadata"]["name"]))
        # writing from a callback must not deadlock; its event is delivered after this one
        if obj["metadata"]["name"] == "a" and type_ == "ADDED":
            s.create(PODS, _pod("from-cb"))
        # the lock is free: another thread can read
        t = threading.Thread(target=lambda: s.list(PODS))
        t.start()
        t.join(2)
        assert not t.is_alive()

    unsub = s.subscribe(cb)
    s.create(PODS, _pod("a"))
    assert seen == [("ADDED", "a"), ("ADDED", "from-cb")]
    unsub()
    s.create(PODS, _pod("z"))
    assert len(seen) == 2


def test_concurrent_writers_get_unique_versions():
    s = Store()

    def work(i):
        for j in range(50):
            s.create(PODS, _pod(f"p{i}-{j}"))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    items, rv = s.list(PODS)
    assert len(items) == 200 and rv == 200
    assert len({i["metadata"]["resourceVersion"] for i in items}) == 200


def test_snapshot_restore_roundtrip():
    s = Store()
    s.create(PODS, _pod("a"))
    s.create(st.NAMESPACES, {"metadata": {"name": "n"}})
    data = s.snapshot()
    t = Store()
    t.restore(data)
    assert t.get(PODS, "default", "a") == s.get(PODS, "default", "a")
    assert t.resource_version == s.resource_version
    created = t.create(PODS, _pod("b"))
    assert int(created["metadata"]["resourceVersion"]) == s.resource_version + 1
