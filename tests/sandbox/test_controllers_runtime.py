"""The controller runtime on a real Store: events, timers, resyncs, and a broken controller."""

from __future__ import annotations

import threading

import pytest

from tutorial.sandbox.faults import FaultSet
from tutorial.sandbox.controllers.runtime import Controller, ControllerRuntime, SandboxSettings
from tutorial.sandbox.storage.store import Store

CONFIGMAPS = ("", "configmaps")


class Recorder(Controller):
    name = "recorder"
    watches = frozenset({CONFIGMAPS})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.seen: list[tuple[str, str]] = []
        self.resyncs = 0
        self.changed = threading.Event()

    def resync(self):
        self.resyncs += 1
        self.changed.set()

    def on_event(self, type, gr, obj):
        self.seen.append((type, obj["metadata"]["name"]))
        self.changed.set()


class Broken(Controller):
    name = "broken"
    watches = None  # every resource

    def resync(self):
        raise RuntimeError("broken resync")

    def on_event(self, type, gr, obj):
        raise RuntimeError("broken on_event")


@pytest.fixture
def runtime():
    store = Store()
    rt = ControllerRuntime(store, FaultSet(), SandboxSettings(), [Broken, Recorder])
    rt.start()
    yield rt
    rt.stop()


def _recorder(rt) -> Recorder:
    return next(c for c in rt.controllers if isinstance(c, Recorder))


def _cm(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}}


def test_a_failing_controller_does_not_stop_the_others(runtime):
    rec = _recorder(runtime)
    assert rec.changed.wait(5)  # the initial resync reached the recorder despite Broken.resync
    rec.changed.clear()
    runtime.store.create(CONFIGMAPS, _cm("one"))
    assert rec.changed.wait(5)
    assert rec.seen == [("ADDED", "one")]
    assert runtime.errors >= 2  # Broken.resync and Broken.on_event were caught and logged


def test_timers_run_in_due_order_on_the_runtime_thread(runtime):
    order, done = [], threading.Event()
    main = threading.get_ident()
    runtime.ctx.schedule(0.2, lambda: (order.append("late"), done.set()))
    runtime.ctx.schedule(0.01, lambda: order.append(("early", threading.get_ident() != main)))
    assert done.wait(5)
    assert order == [("early", True), "late"]


def test_fault_switch_resyncs_every_controller(runtime):
    rec = _recorder(runtime)
    assert rec.changed.wait(5)
    before = rec.resyncs
    rec.changed.clear()
    runtime.faults.enable("no-lb")
    assert rec.changed.wait(5)
    assert rec.resyncs == before + 1


def test_stop_joins_the_thread():
    rt = ControllerRuntime(Store(), FaultSet(), SandboxSettings(), [Recorder])
    rt.start()
    thread = rt._thread
    rt.stop()
    assert thread is not None and not thread.is_alive()


def test_events_are_aggregated_and_skip_missing_namespaces():
    store = Store()
    store.create(("", "namespaces"), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    rt = ControllerRuntime(store, FaultSet(), SandboxSettings(), [])
    cm = store.create(CONFIGMAPS, _cm("x"))
    for _ in range(3):
        rt.ctx.record_event(cm, "Warning", "Odd", "something odd", "tester")
    rt.ctx.record_event({"metadata": {"name": "y", "namespace": "nowhere", "uid": "u"}},
                        "Normal", "Lost", "into the void", "tester")
    events = store.list(("", "events"))[0]
    assert len(events) == 1
    event = events[0]
    assert event["count"] == 3 and event["involvedObject"]["name"] == "x"
    assert event["source"] == {"component": "tester"} and event["type"] == "Warning"


class Scribbler(Controller):
    """Edits every object it is given, as a careless controller might."""

    name = "scribbler"
    watches = frozenset({CONFIGMAPS})

    def on_event(self, type, gr, obj):
        obj["metadata"]["name"] = "scribbled"
        obj.setdefault("data", {})["x"] = "y"


class Reader(Controller):
    name = "reader"
    watches = frozenset({CONFIGMAPS})
    reads_only = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.got = []
        self.changed = threading.Event()

    def on_event(self, type, gr, obj):
        self.got.append(obj)
        self.changed.set()


def test_a_controller_that_edits_its_event_cannot_change_the_store_or_others():
    store = Store()
    rt = ControllerRuntime(store, FaultSet(), SandboxSettings(), [Scribbler, Reader])
    rt.start()
    try:
        store.create(CONFIGMAPS, _cm("a"))
        reader = next(c for c in rt.controllers if isinstance(c, Reader))
        assert reader.changed.wait(5)
        assert reader.got[0]["metadata"]["name"] == "a" and "data" not in reader.got[0]
        assert reader.got[0] is store.peek(CONFIGMAPS, "default", "a")  # reads_only: no copy made
        assert "data" not in store.get(CONFIGMAPS, "default", "a")
    finally:
        rt.stop()
