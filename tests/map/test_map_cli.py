"""`gateway-tutorial map` as a learner runs it (through tutorial.cli.main; --watch in a real process),
with a real kubeconfig on the blog's sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandboxlab import RT, asset


@pytest.fixture
def run_map(blog, monkeypatch, capsys):
    """run_map(*args, columns=80) -> (exit code, stdout, stderr) of `gateway-tutorial map` in this process."""
    from tutorial.cli import main

    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(blog.home / "state"))
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str, columns: int = 80):
        monkeypatch.setenv("COLUMNS", str(columns))
        monkeypatch.setenv("LINES", "24")
        code = main(["--kubeconfig", str(blog.kubeconfig), "--context", "sandbox", "map", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_json_is_the_model(run_map):
    code, out, err = run_map("--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["state"] == "ok" and doc["problems"] == [] and doc["unattached"] == []
    gateway = doc["root"]["children"][0]
    assert gateway["id"] == "gateway/istio-ingress/emojivoto" and gateway["data"]["class"] == "istio"


def test_healthy_chain_fits_80x24(run_map):
    code, out, err = run_map()
    assert code == 0, err
    lines = out.rstrip("\n").splitlines()
    assert len(lines) <= 24 and max(len(l) for l in lines) <= 80, out
    assert "whole path healthy" in lines[0]
    assert out.count("▼ ✔") == 7  # every arrow from the client to the app's pods is ok
    order = ["Gateway istio-ingress/emojivoto", "Service istio-ingress/emojivoto-istio", "Listener emojivoto HTTP :8080",
             "HTTPRoute emojivoto/emojivoto", "Service emojivoto/web-svc", "Pods emojivoto app=web-svc"]
    assert [out.index(t) for t in order] == sorted(out.index(t) for t in order)


def test_narrow_terminal_gets_a_list(run_map):
    code, out, err = run_map(columns=40)
    assert code == 0, err
    assert "▼" not in out
    assert "✔ HTTPRoute emojivoto/emojivoto" in out


def test_broken_map_exits_1_and_explains(blog, run_map):
    rt = asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    blog.apply(rt)
    try:
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].reason}=BackendNotFound",
                  f"{RT}/emojivoto", "-n", "emojivoto")
        code, out, err = run_map(columns=100)
        assert code == 1, err
        assert "▼ ✘ BackendNotFound" in out
        assert "Service emojivoto/web  ✘ not found" in out
        assert "why:" in out and "fix:" in out
    finally:
        blog.apply(asset("httproute.yaml"))
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].status}=True", f"{RT}/emojivoto", "-n", "emojivoto")


def test_gateway_filter_and_usage_error(run_map):
    code, out, _ = run_map("--json", "--gateway", "default/nothing")
    doc = json.loads(out)
    assert doc["root"]["children"] == [] and "No Gateway default/nothing in the cluster." in doc["notes"]
    assert code == 1
    code, _, err = run_map("--gateway", "emojivoto")
    assert code == 2 and "NAMESPACE/NAME" in err


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
