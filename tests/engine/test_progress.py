"""Progress store: per-cluster files, atomic versioned format, corruption, many processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tutorial.engine.progress import FORMAT, ProgressStore, StepRecord, cluster_key


@pytest.fixture
def store(tmp_path):
    return ProgressStore.for_cluster("kind-lab", "https://127.0.0.1:6443", state_dir=tmp_path)


def test_set_get_round_trip_and_file_format(store, tmp_path):
    assert store.get("emojivoto/deploy") == StepRecord("todo", None, "")
    rec = store.set("emojivoto/deploy", "done", "4 deployments available")
    assert store.get("emojivoto/deploy") == rec and rec.updated.endswith("Z")
    store.set_current("istio/install")
    store.set_variant("istio", "helm")
    data = json.loads(store.path.read_text())
    assert store.path.parent == tmp_path / "progress"
    assert data["format"] == FORMAT
    assert data["cluster"] == {"context": "kind-lab", "server": "https://127.0.0.1:6443"}
    assert data["steps"]["emojivoto/deploy"]["state"] == "done"
    assert data["steps"]["emojivoto/deploy"]["detail"] == "4 deployments available"
    assert data["current"] == "istio/install" and data["variants"] == {"istio": "helm"}
    assert [p.name for p in store.path.parent.iterdir() if p.suffix == ".tmp"] == []


def test_a_second_store_sees_writes(store, tmp_path):
    other = ProgressStore.for_cluster("kind-lab", "https://127.0.0.1:6443", state_dir=tmp_path)
    store.set("a/b", "failed", "boom")
    assert other.get("a/b").state == "failed"
    other.set("a/b", "skipped")
    assert store.get("a/b").state == "skipped"
    assert store.done_targets() == []


def test_clusters_are_kept_apart(tmp_path):
    one = ProgressStore.for_cluster("lab", "https://10.0.0.1", state_dir=tmp_path)
    two = ProgressStore.for_cluster("lab", "https://10.0.0.2", state_dir=tmp_path)
    one.set("a/b", "done")
    assert two.get("a/b").state == "todo"
    assert one.path != two.path
    assert cluster_key("../../etc/passwd x", "s").startswith("etc_passwd_x-")


def test_bad_states_and_targets_are_rejected(store):
    with pytest.raises(ValueError, match="must be one of"):
        store.set("a/b", "finished")
    for target in ("nolesson", "a/b/c", "", "a /b"):
        with pytest.raises(ValueError, match="lesson/step"):
            store.set(target, "done")


def test_done_targets_and_all(store):
    store.set("l1/s1", "done")
    store.set("l1/s2", "failed")
    store.set("l2/s1", "done")
    assert sorted(store.done_targets()) == ["l1/s1", "l2/s1"]
    assert {t: r.state for t, r in store.all().items()} == {
        "l1/s1": "done", "l1/s2": "failed", "l2/s1": "done"}


def test_reset_steps_lessons_and_everything(store):
    for target in ("l1/s1", "l1/s2", "l2/s1"):
        store.set(target, "done")
    store.set_variant("l1", "istioctl")
    store.set_variant("l2", "helm")
    store.set_current("l1/s2")
    store.reset(["l2/s1"])
    assert set(store.all()) == {"l1/s1", "l1/s2"} and store.variant("l2") == "helm"
    store.reset(["l1"])
    assert store.all() == {} and store.variant("l1") is None and store.current is None
    store.set("l3/s1", "done")
    store.reset()
    assert store.all() == {} and store.variant("l2") is None


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format": 2, "steps": {}}',
                                     '{"format": 1, "steps": {"a/b": {"state": "weird"}}}'])
def test_corrupt_file_is_moved_aside_with_a_message(tmp_path, content):
    good = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    good.path.write_text(content)
    store = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    assert store.warning and "moved to" in store.warning
    aside = list(store.path.parent.glob(f"{store.path.stem}.corrupt-*.json"))
    assert len(aside) == 1 and aside[0].read_text() == content
    assert str(aside[0]) in store.warning
    assert store.all() == {}
    store.set("a/b", "done")
    assert json.loads(store.path.read_text())["format"] == FORMAT


def test_corruption_between_calls_is_handled(store):
    store.set("a/b", "done")
    store.path.write_text("\x00garbage")
    assert store.get("a/b").state == "todo"
    assert store.warning is not None


WRITER = textwrap.dedent(
    """
    import sys
    from tutorial.engine.progress import ProgressStore
    store = ProgressStore.for_cluster("c", "s", state_dir=sys.argv[1])
    for i in range(25):
        store.set(f"w{sys.argv[2]}/s{i}", "done", f"writer {sys.argv[2]}")
    """
)


def test_concurrent_processes_lose_no_writes(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)])
             for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    store = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    assert store.warning is None
    assert len(store.done_targets()) == 100


def test_default_state_dir_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    store = ProgressStore.for_cluster("c", "s")
    assert store.path.parent == tmp_path / "state" / "progress"


HAMMER = textwrap.dedent(
    """
    import sys
    from tutorial.engine.progress import ProgressStore
    store = ProgressStore.for_cluster("c", "s", state_dir=sys.argv[1])
    store.set("l/s0", "done", "x" * 20000)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        store.set(f"l/s{i % 50}", "done", "x" * 20000)
    """
)


def test_a_writer_killed_mid_write_leaves_a_valid_file(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HAMMER, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.kill()
        proc.wait(timeout=30)
    store = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    assert store.warning is None
    assert store.get("l/s0").state == "done"
    assert list(store.path.parent.glob("*.tmp")) == []  # a stale temp file is swept


def test_sweep_spares_other_clusters_temp_files(tmp_path):
    store = ProgressStore.for_cluster("lab", "s", state_dir=tmp_path)
    mine = store.path.parent / f"{store.path.stem}.abc_123.tmp"
    other = store.path.parent / f"{store.path.stem}.x-0123456789.zz.tmp"
    mine.write_text("{")
    other.write_text("{")
    ProgressStore.for_cluster("lab", "s", state_dir=tmp_path)
    assert not mine.exists() and other.exists()
