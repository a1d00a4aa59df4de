"""`gateway-tutorial sandbox serve` as a learner or instructor runs it: a real subprocess."""

from __future__ import annotations

import io
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cluster_fixtures import require_kubectl, run_kubectl

from tutorial.sandbox import serve as serve_mod

REPO = Path(__file__).resolve().parents[2]


def _start_serve(tmp: Path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    """Run the CLI; return once it printed its summary (it writes the kubeconfig before that)."""
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / "state"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            return proc, lines
    proc.wait(10)
    raise AssertionError(f"sandbox serve ended early ({proc.returncode}):\n{''.join(lines)}")


def _refused(url: str) -> bool:
    host, port = url.removeprefix("https://").removeprefix("http://").rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_serve_ten_independent_clusters_then_interrupt(tmp_path):
    require_kubectl()
    kc, env_out = tmp_path / "kubeconfig", tmp_path / "env.sh"
    proc, lines = _start_serve(tmp_path, "--clusters", "10", "--kubeconfig-out", str(kc),
                               "--env-out", str(env_out), "--context-name", "lab")
    try:
        config = yaml.safe_load(kc.read_text())
        contexts = [c["name"] for c in config["contexts"]]
        assert contexts == [f"lab{i:02d}" for i in range(1, 11)]
        assert oct(kc.stat().st_mode & 0o777) == "0o600"
        text = "".join(lines)
        assert "SIMULATED" in text and "lab10" in text
        assert f"export KUBECONFIG={kc}" in env_out.read_text()
        home = tmp_path / "home"
        home.mkdir()
        run_kubectl(home, kc, "--context", "lab02", "create", "namespace", "only-in-two")
        assert "only-in-two" in run_kubectl(home, kc, "--context", "lab02", "get", "ns").stdout
        other = run_kubectl(home, kc, "--context", "lab07", "get", "ns", "only-in-two", check=False)
        assert other.returncode != 0 and "NotFound" in other.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, rest
    assert "Stopped 10 simulated cluster(s)." in rest
    urls = [c["cluster"]["server"] for c in config["clusters"]]
    assert all(_refused(url) for url in urls)  # nothing left listening: no orphaned server


def test_env_lines_quote_the_kubeconfig_path(tmp_path):
    lines = serve_mod.env_lines(tmp_path / "my labs" / "kubeconfig")
    assert lines[0] == f"export KUBECONFIG='{tmp_path}/my labs/kubeconfig'"
    assert all(line.startswith("export ") for line in lines)


def test_bad_fault_is_a_usage_error(tmp_path):
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "tutorial", "sandbox", "serve", "--fault", "no-such"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "unknown fault 'no-such'" in proc.stderr and "no-lb" in proc.stderr


def test_in_process_serve_keeps_state_in_state_dir(tmp_path):
    """serve() from a thread (as the TUI could): stops on the event; --state-dir keeps each cluster."""
    import threading

    from cluster_fixtures import require_kubectl

    require_kubectl()
    kc, home = tmp_path / "kc", tmp_path / "home"
    home.mkdir()
    opts = serve_mod.ServeOptions(clusters=2, kubeconfig_out=kc, state_dir=tmp_path / "states")

    def run_once(action):
        from rich.console import Console

        stop, ready = threading.Event(), threading.Event()
        console = Console(file=io.StringIO())
        thread = threading.Thread(target=serve_mod.serve, args=(opts, console, stop, ready))
        thread.start()
        try:
            assert ready.wait(30), console.file.getvalue()
            return action()
        finally:
            stop.set()
            thread.join(30)

    run_once(lambda: run_kubectl(home, kc, "--context", "sandbox02", "create", "namespace", "kept"))
    assert sorted(p.name for p in (tmp_path / "states").iterdir()) == ["sandbox01.json", "sandbox02.json"]
    shutil.rmtree(home / ".kube", ignore_errors=True)  # ports change between runs: fresh discovery
    second = run_once(lambda: run_kubectl(home, kc, "--context", "sandbox02", "get", "ns", "kept", check=False))
    assert second.returncode == 0
    first = run_once(lambda: run_kubectl(home, kc, "--context", "sandbox01", "get", "ns", "kept", check=False))
    assert first.returncode != 0 and "NotFound" in first.stderr


def test_faults_apply_to_all_clusters_or_to_one_by_context():
    names = ["lab01", "lab02"]
    specs = ["no-lb", "lab02/image-pull=docker.l5d.io/buoyantio", "image-pull=docker.l5d.io/x"]
    assert serve_mod.faults_for("lab01", names, specs) == ["no-lb", "image-pull=docker.l5d.io/x"]
    assert serve_mod.faults_for("lab02", names, specs) == [
        "no-lb", "image-pull=docker.l5d.io/buoyantio", "image-pull=docker.l5d.io/x"]


def _two_free_ports() -> int:
    """A port P with P and P+1 free, below the ephemeral range so client sockets do not take them."""
    import random

    for _ in range(200):
        port = random.randrange(20000, 32000, 2)
        try:
            for p in (port, port + 1):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    pytest.skip("no two consecutive free ports found between 20000 and 32000")


def test_serve_stops_cleanly_on_sigterm_with_a_fixed_port(tmp_path):
    port = _two_free_ports()
    kc = tmp_path / "kc"
    proc, _ = _start_serve(tmp_path, "--clusters", "2", "--port", str(port), "--kubeconfig-out", str(kc))
    servers = [c["cluster"]["server"] for c in yaml.safe_load(kc.read_text())["clusters"]]
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out
    assert servers == [f"https://127.0.0.1:{port}", f"https://127.0.0.1:{port + 1}"]


def _held_connections(kc: Path, count: int) -> tuple[list, "callable"]:
    """`count` kept-alive HTTPS connections that each hold one of the server's workers, and ask(conn)."""
    import base64
    import http.client
    import ssl

    config = yaml.safe_load(kc.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    tls = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    host, port = cluster["server"].removeprefix("https://").rsplit(":", 1)

    def ask(conn=None):
        conn = conn or http.client.HTTPSConnection(host, int(port), context=tls, timeout=10)
        conn.request("GET", "/version", headers={"Authorization": f"Bearer {user['token']}"})
        resp = conn.getresponse()
        return conn, resp.status, dict(resp.getheaders()), resp.read()

    held = []
    for _ in range(count):
        conn, status, _, _ = ask()
        assert status == 200
        held.append(conn)
    return held, ask


def test_workers_bounds_the_pool_and_kubectl_retries_the_429s_as_client_go_does(tmp_path):
    import json

    require_kubectl()
    kc, home = tmp_path / "kc", tmp_path / "home"
    home.mkdir()
    proc, _ = _start_serve(tmp_path, "--workers", "2", "--kubeconfig-out", str(kc))
    try:
        held, ask = _held_connections(kc, 2)
        conn, status, headers, body = ask()
        conn.close()
        assert status == 429 and headers["Retry-After"] == "1", (status, headers)
        assert json.loads(body)["reason"] == "TooManyRequests"
        from cluster_fixtures import kubectl_env

        kubectl = subprocess.Popen([require_kubectl(), "get", "namespaces", "-v=4"], env=kubectl_env(home, kc),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in kubectl.stderr:  # client-go says when it waits for a Retry-After
            seen.append(line)
            if "Retry-After" in line:
                break
        for c in held:
            c.close()
        out, err = kubectl.communicate(timeout=60)
        assert any("Retry-After" in line for line in seen), "".join(seen) + err
        assert kubectl.returncode == 0 and "kube-system" in out, "".join(seen) + err
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_workers_must_be_positive(tmp_path):
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "tutorial", "sandbox", "serve", "--workers", "0"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--workers must be at least 1" in proc.stderr
