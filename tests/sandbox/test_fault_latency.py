"""api-latency: every API request and watch event waits as across a network; per cluster, switchable live.

No test here measures time: a recording `sleep` shows which requests were delayed and by how much
was asked, and a watch event's due time is checked against a delay no test run can reach.
"""

from __future__ import annotations

import random
import time

import pytest
from cluster_fixtures import sandbox_factory  # noqa: F401 - fixture

from tutorial.sandbox.faults import FAULTS, FaultError, FaultSet, parse_spec
from tutorial.sandbox.storage.objects import NAMESPACES
from tutorial.sandbox.storage.store import Store


class Recorder(list):
    """A stand-in for time.sleep that remembers each delay asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_parse_durations_and_default_jitter():
    assert parse_spec("api-latency=30ms") == ("api-latency", {"delay": "30ms"})
    faults = FaultSet.parse(["api-latency=30ms"])
    assert faults.active("api-latency") == {"delay": "30ms", "jitter": "3ms"}
    assert faults.describe() == ["api-latency (delay=30ms, jitter=3ms)"]
    faults = FaultSet.parse(["api-latency:delay=0.25s,jitter=0"])
    assert faults.active("api-latency") == {"delay": "250ms", "jitter": "0ms"}
    assert faults.latency_now() == 0.25
    assert FaultSet.parse(["api-latency=12"]).active("api-latency")["delay"] == "12ms"  # bare number: ms
    assert "api-latency" in FAULTS and FaultSet().latency_now() == 0.0
    with pytest.raises(FaultError, match="duration like 30ms"):
        FaultSet.parse(["api-latency=fast"])
    with pytest.raises(FaultError, match="has no parameter 'rate'"):
        FaultSet.parse(["api-latency:rate=1"])


def test_jitter_spreads_delays_around_the_delay():
    faults = FaultSet(rng=random.Random(3))
    faults.enable("api-latency", delay="30ms", jitter="10ms")
    delays = [faults.latency_now() for _ in range(200)]
    assert all(0.020 <= d <= 0.040 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # spread, not one fixed value


def test_every_request_is_delayed_while_the_fault_is_on(sandbox_factory):
    slept = Recorder()
    faults = FaultSet(rng=random.Random(1), sleep=slept)
    sb = sandbox_factory(faults=faults)
    sb.kubectl("get", "namespaces")
    assert slept == []  # off: nobody waits
    faults.enable("api-latency", delay="30ms")
    sb.kubectl("get", "namespaces")
    sb.kubectl("get", "--raw", "/version")
    assert len(slept) >= 2 and all(0.027 <= s <= 0.033 for s in slept)
    faults.disable("api-latency")
    before = len(slept)
    sb.kubectl("get", "namespaces")
    assert len(slept) == before


def test_switched_per_cluster_from_the_sandbox_faults_configmap(sandbox_factory):
    slept_a, slept_b = Recorder(), Recorder()
    a = sandbox_factory(faults=FaultSet(sleep=slept_a))
    b = sandbox_factory(faults=FaultSet(sleep=slept_b))
    a.kubectl("-n", "kube-system", "create", "configmap", "sandbox-faults", "--from-literal=faults=api-latency=40ms")
    _until(lambda: a.faults.active("api-latency") is not None)
    assert a.faults.describe() == ["api-latency (delay=40ms, jitter=4ms)"]
    a.kubectl("get", "namespaces")
    b.kubectl("get", "namespaces")
    assert slept_a and not slept_b and b.faults.names() == []
    a.kubectl("-n", "kube-system", "delete", "configmap", "sandbox-faults")
    _until(lambda: a.faults.active("api-latency") is None)


def test_watch_events_come_out_in_order_once_due():
    store, faults = Store(), FaultSet()
    watch = faults.delayed(store.watch(NAMESPACES))
    for name in ("one", "two", "three"):
        store.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    got = [watch.next(timeout=5) for _ in range(3)]  # fault off: due at once
    assert [e[1]["metadata"]["name"] for e in got] == ["one", "two", "three"]
    faults.enable("api-latency", delay="600s", jitter="0")  # further than any test run
    store.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "late"}})
    assert watch.next(timeout=0.2) is None  # happened, but still on its way
    assert not watch._queue.empty()  # so the stream sends no bookmark past it
    watch.close()


def _until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the fault was not switched"
        time.sleep(0.05)
