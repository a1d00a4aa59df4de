"""`gateway-tutorial map` as a learner runs it: real process, real kubeconfig, the blog's sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from maplab import RT, asset


def _map(blog, *args: str, columns: int = 80) -> subprocess.CompletedProcess:
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(blog.home / "state"), "HOME": str(blog.home),
           "COLUMNS": str(columns), "LINES": "24", "TERM": "dumb", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "tutorial", "--kubeconfig", str(blog.kubeconfig),
                           "--context", "sandbox", "map", *args], capture_output=True, text=True, timeout=120, env=env)


def test_json_is_the_model(blog):
    proc = _map(blog, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["state"] == "ok" and doc["problems"] == [] and doc["unattached"] == []
    gateway = doc["root"]["children"][0]
    assert gateway["id"] == "gateway/istio-ingress/emojivoto" and gateway["data"]["class"] == "istio"


def test_healthy_chain_fits_80x24(blog):
    proc = _map(blog)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip("\n").splitlines()
    assert len(lines) <= 24 and max(len(l) for l in lines) <= 80, proc.stdout
    assert "whole path healthy" in lines[0]
    assert proc.stdout.count("▼ ✔") == 7  # every arrow from the client to the app's pods is ok
    order = ["Gateway istio-ingress/emojivoto", "Service istio-ingress/emojivoto-istio", "Listener emojivoto HTTP :8080",
             "HTTPRoute emojivoto/emojivoto", "Service emojivoto/web-svc", "Pods emojivoto app=web-svc"]
    assert [proc.stdout.index(t) for t in order] == sorted(proc.stdout.index(t) for t in order)


def test_narrow_terminal_gets_a_list(blog):
    proc = _map(blog, columns=40)
    assert proc.returncode == 0, proc.stderr
    assert "▼" not in proc.stdout
    assert "✔ HTTPRoute emojivoto/emojivoto" in proc.stdout


def test_broken_map_exits_1_and_explains(blog):
    rt = asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    blog.apply(rt)
    try:
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].reason}=BackendNotFound",
                  f"{RT}/emojivoto", "-n", "emojivoto")
        proc = _map(blog, columns=100)
        assert proc.returncode == 1, proc.stderr
        assert "▼ ✘ BackendNotFound" in proc.stdout
        assert "Service emojivoto/web  ✘ not found" in proc.stdout
        assert "why:" in proc.stdout and "fix:" in proc.stdout
    finally:
        blog.apply(asset("httproute.yaml"))
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].status}=True", f"{RT}/emojivoto", "-n", "emojivoto")


def test_gateway_filter_and_usage_error(blog):
    proc = _map(blog, "--json", "--gateway", "default/nothing")
    doc = json.loads(proc.stdout)
    assert doc["root"]["children"] == [] and "No Gateway default/nothing in the cluster." in doc["notes"]
    assert proc.returncode == 1
    bad = _map(blog, "--gateway", "emojivoto")
    assert bad.returncode == 2 and "NAMESPACE/NAME" in bad.stderr


def test_watch_redraws_on_change_and_stops_on_ctrl_c(blog):
    import signal
    import threading

    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(blog.home / "state"), "HOME": str(blog.home),
           "COLUMNS": "80", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "--kubeconfig", str(blog.kubeconfig),
                             "--context", "sandbox", "map", "--watch"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(90, proc.kill)  # a watch that never prints must not hang the suite
    watchdog.start()
    try:
        _read_until(proc, "whole path healthy")
        blog.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
        _read_until(proc, "no routes attached (404)")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
        blog.apply(asset("httproute.yaml"))
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].status}=True", f"{RT}/emojivoto", "-n", "emojivoto")


def _read_until(proc, text: str) -> None:
    """Read the watch's output line by line (blocking; the test's timeout bounds it) until `text`."""
    for line in proc.stdout:
        if text in line:
            return
    raise AssertionError(f"map --watch ended before showing {text!r}: {proc.stderr.read()}")
