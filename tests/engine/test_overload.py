"""A real sandbox forced into overload (a pool of 16 workers, every one held by another client):
a check that meets 429 Too Many Requests keeps asking, honouring Retry-After, and passes once a
worker is free; a transient 5xx is never reported as "not found" (issue 19)."""

from __future__ import annotations

import http.client
import ssl
import threading
import time

import pytest

from sandbox_engine import engine_for, require_kubectl, start_cluster
from tutorial.cluster.retry import Retrier

WORKERS = 16


@pytest.fixture
def lab(tmp_path):
    require_kubectl()
    cluster = start_cluster(tmp_path, workers=WORKERS)
    engine = engine_for(cluster, tmp_path)
    step = engine.lessons.step("emojivoto/namespace")
    assert engine.run_step(step, solve=True).ok
    assert engine.progress.get(step.target).state == "done"
    yield cluster, engine, step
    engine.close()
    cluster.stop()


def _ask(cluster, conn: http.client.HTTPSConnection) -> int:
    conn.request("GET", "/version", headers={"Authorization": f"Bearer {cluster.token}"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def _hold_every_worker(cluster) -> list[http.client.HTTPSConnection]:
    """Kept-alive connections that each hold a worker, until the server answers 429 (it is full)."""
    tls = ssl.create_default_context(cadata=cluster.server.ca_pem)
    held = []
    for _ in range(WORKERS * 4):
        conn = http.client.HTTPSConnection(cluster.host, cluster.port, context=tls, timeout=10)
        if _ask(cluster, conn) == 429:
            conn.close()
            return held
        held.append(conn)
    raise AssertionError(f"{len(held)} connections held and the server still answers")


def _release_after(cluster, held, refusals: int, stop: threading.Event) -> threading.Thread:
    """Close the held connections once the server has refused `refusals` more connections."""
    def release():
        seen = cluster.server.refused
        while cluster.server.refused < seen + refusals and not stop.wait(0.05):
            pass
        for conn in held:
            conn.close()

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    return thread


def test_a_check_that_meets_429s_keeps_asking_and_passes(lab):
    cluster, engine, step = lab
    engine.client.close()  # the check must open a connection of its own while the server is full
    held = _hold_every_worker(cluster)
    refused_before = cluster.server.refused
    stop = threading.Event()
    # more refusals than urllib3 would absorb by itself (3 retries): the check's own retrier must ask again
    releaser = _release_after(cluster, held, refusals=6, stop=stop)
    try:
        results = engine.check_step(step, timeout=60)
    finally:
        stop.set()
        releaser.join(10)
    assert results and all(r.passed for r in results), [r.observed for r in results]
    assert cluster.server.refused >= refused_before + 6
    assert engine.progress.get(step.target).state == "done"


def test_every_429_reaches_the_checks_retrier(lab):
    """No layer below asks again on its own (urllib3 would sleep through Retry-After thrice per
    request, past the check's deadline and deaf to its cancel, and the count would be wrong)."""
    cluster, engine, _ = lab
    engine.client.close()
    held = _hold_every_worker(cluster)
    try:
        before = cluster.server.refused
        retry = Retrier(time.monotonic() + 4.5)
        with pytest.raises(Exception) as failed:
            engine.client.get_json("/api/v1/namespaces", retry=retry)
        met = cluster.server.refused - before
        assert met >= 3 and [e.status for e in retry.errors] == [429] * met, retry.errors
        assert f"the API server answered 429 {met} times; still trying when the time to wait ran out" \
            in str(failed.value)
        assert failed.value.transient and not failed.value.unreachable
    finally:
        for conn in held:
            conn.close()


def test_a_transient_5xx_under_overload_is_never_not_found(lab):
    cluster, engine, step = lab
    cluster.faults.enable("flaky-api", rate=1.0)
    held = []
    try:
        engine.client.close()
        held = _hold_every_worker(cluster)
        releaser = _release_after(cluster, held, refusals=2, stop=threading.Event())
        results = engine.check_step(step, timeout=6)  # 429s first, then only 500s until the time is up
        releaser.join(10)
    finally:
        for conn in held:
            conn.close()
    assert results and not any(r.passed for r in results)
    for r in results:
        assert r.transient and "not found" not in r.observed, r.observed
        assert "the API server answered 500" in r.observed and "still trying" in r.observed, r.observed
    assert engine.progress.get(step.target).state == "done"
