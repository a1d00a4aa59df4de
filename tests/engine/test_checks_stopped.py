"""A check not yet begun when its run is stopped (Ctrl-C, a fleet's deadline) is not asked: it comes
back cancelled at once. `status --watch` with 100 clusters once took 6-9 s to leave on Ctrl-C while
every cluster still asked all of its checks, one after the other."""

from __future__ import annotations

import threading

from sandbox_engine import engine_for, require_kubectl, start_cluster


def test_checks_of_a_stopped_run_are_not_asked_and_say_so(tmp_path):
    require_kubectl()
    cluster = start_cluster(tmp_path)
    try:
        engine = engine_for(cluster, tmp_path)
        step = engine.lessons.step("emojivoto/namespace")
        pairs = [(step, chk) for chk in step.checks]
        assert pairs
        stopped = threading.Event()
        stopped.set()
        results = engine.run_checks(pairs, timeout=0, cancel=stopped, workers=1)
        assert [r.check_id for r in results] == [c.id for _, c in pairs]
        assert all(r.cancelled and not r.passed and r.observed == "not checked: stopped" for r in results)

        asked = engine.run_checks(pairs, timeout=0, cancel=threading.Event(), workers=1)
        assert not any(r.cancelled for r in asked)  # the same checks, not stopped: asked and answered
        assert "not checked" not in " ".join(r.observed for r in asked)
        engine.close()
    finally:
        cluster.stop()
