"""Persistence: throttled atomic snapshots, restore after restart, corrupt files moved aside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tutorial.sandbox.storage import persist
from tutorial.sandbox.storage.store import Store

PODS = ("", "pods")


def _pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}}


def test_missing_file_gives_fresh_store(tmp_path):
    store, message = persist.load_store(tmp_path / "state.json")
    assert message is None and store.resource_version == 0


def test_persister_saves_changes_and_restores(tmp_path):
    path = tmp_path / "state.json"
    store = Store()
    p = persist.Persister(store, path).start()
    store.create(PODS, _pod("a"))
    store.create(PODS, _pod("b"))
    p.stop()
    assert p.writes >= 1
    loaded, message = persist.load_store(path)
    assert message is None
    assert [o["metadata"]["name"] for o in loaded.list(PODS)[0]] == ["a", "b"]
    assert loaded.resource_version == store.resource_version
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f]
    again = Store()
    assert persist.Persister(again, path).load() is None
    assert again.get(PODS, "default", "b") == store.get(PODS, "default", "b")


def test_persister_writes_in_background_before_stop(tmp_path):
    path = tmp_path / "state.json"
    store = Store()
    p = persist.Persister(store, path, min_interval=0.05).start()
    try:
        p.saved.clear()
        store.create(PODS, _pod("a"))
        assert p.saved.wait(10), "the background writer never saved the change"
        assert '"a"' in path.read_text()
    finally:
        p.stop()


def test_corrupt_file_is_moved_aside_with_a_message(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "gateway-tutorial-sandbox/v1", "snapsh')
    store, message = persist.load_store(path)
    assert store.resource_version == 0
    aside = [f for f in os.listdir(tmp_path) if f.startswith("state.json.corrupt-")]
    assert len(aside) == 1 and aside[0] in message and "fresh" in message
    assert not path.exists()


def test_killed_writer_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "state.json"
    code = textwrap.dedent(f"""
        import os
        from tutorial.sandbox.storage.store import Store
        from tutorial.sandbox.storage.persist import Persister
        s = Store()
        p = Persister(s, {str(path)!r}, min_interval=0.0).start()
        for i in range(400):
            s.create(("", "configmaps"), {{"metadata": {{"name": f"c{{i}}", "namespace": "default"}},
                                          "data": {{"x": "y" * 200}}}})
            if i == 50:
                p.flush()
        os._exit(9)  # killed: no stop(), no final flush
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    store, message = persist.load_store(path)
    assert message is None
    assert len(store.list(("", "configmaps"))[0]) >= 51
    assert json.loads(path.read_text())["format"] == persist.FORMAT
