"""Checks retry transient API errors within their timeout and never call them "not found"; a done
step is never marked failed on a transient error (issue 19). Uses the sandbox's flaky-api fault."""

from __future__ import annotations

import time

import pytest

from sandbox_engine import engine_for, require_kubectl, start_cluster
from tutorial.cluster.client import ClusterError
from tutorial.cluster.retry import Retrier


@pytest.fixture
def lab(tmp_path):
    require_kubectl()
    cluster = start_cluster(tmp_path)
    engine = engine_for(cluster, tmp_path)
    step = engine.lessons.step("emojivoto/namespace")
    assert engine.run_step(step, solve=True).ok
    assert engine.progress.get(step.target).state == "done"
    yield cluster, engine, step
    engine.close()
    cluster.stop()


def test_a_failing_api_server_is_reported_as_such_and_the_step_stays_done(lab):
    cluster, engine, step = lab
    cluster.faults.enable("flaky-api", rate=1.0)
    results = engine.check_step(step, timeout=2)
    assert results and not any(r.passed for r in results)
    for r in results:
        assert r.transient and "not found" not in r.observed, r.observed
        assert "the API server answered 500" in r.observed and "still trying" in r.observed, r.observed
    assert engine.progress.get(step.target).state == "done"


def test_checks_retry_within_their_timeout_and_pass(lab):
    cluster, engine, step = lab
    cluster.faults.enable("flaky-api", rate=0.5)
    for _ in range(8):  # at 50% flakiness, one try in two fails: without retries this fails at once
        results = engine.check_step(step, timeout=20)
        assert all(r.passed for r in results), [r.observed for r in results]
    assert engine.progress.get(step.target).state == "done"


def test_run_keeps_a_done_step_done_when_the_api_server_fails(lab):
    import argparse
    import io

    from rich.console import Console

    from tutorial.commands.run import _one_step

    cluster, engine, step = lab
    cluster.faults.enable("flaky-api", rate=1.0)
    buf = io.StringIO()
    args = argparse.Namespace(again=False, yes=True, solve=False, json=False)
    ok, _ = _one_step(engine, engine.lessons.lesson("emojivoto"), step, args, Console(file=buf, width=200))
    cluster.faults.disable("flaky-api")
    assert ok and "kept" in buf.getvalue() and "answered 500" in buf.getvalue(), buf.getvalue()
    assert engine.progress.get(step.target).state == "done"


def test_retry_after_is_honoured_and_counted():
    retry = Retrier(time.monotonic() + 5)
    busy = ClusterError("too many requests", status=429, retry_after=0.3)
    start = time.monotonic()
    assert retry.wait(busy)
    assert time.monotonic() - start >= 0.3
    assert retry.wait(ClusterError("unavailable", status=503))
    final = retry.final(ClusterError("unavailable", status=503))
    assert "the API server answered 503 twice; still trying" in str(final)
    assert not Retrier(time.monotonic() + 5).wait(ClusterError("refused"))  # gone, not transient
    assert not Retrier(time.monotonic() + 5).wait(ClusterError("missing", status=404))
    assert Retrier(time.monotonic() + 0.05).wait(ClusterError("slow", status=429, retry_after=2)) is False
