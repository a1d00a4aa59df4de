"""SandboxCluster's in-process API: start/stop, kubeconfig, busy ports, shared settings, LB address."""

from __future__ import annotations

import socket
import urllib.request

import pytest
import yaml

from tutorial.sandbox import kubeconfig
from tutorial.sandbox.cluster import SandboxCluster, SandboxError, pick_lb_address
from tutorial.sandbox.controllers.runtime import SandboxSettings


def test_context_manager_serves_then_closes_the_port(tmp_path):
    with SandboxCluster(name="demo") as cluster:
        ready = urllib.request.Request(f"{cluster.url}/readyz", headers={"Authorization": f"Bearer {cluster.token}"})
        with urllib.request.urlopen(ready, timeout=5, context=cluster.cert.client_context()) as resp:
            assert resp.status == 200
        path = cluster.write_kubeconfig(tmp_path / "kc")
        config = yaml.safe_load(path.read_text())
        assert config["current-context"] == "demo"
        assert config["clusters"][0]["cluster"]["server"] == cluster.url
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        url = cluster.url
    host, port = url.removeprefix("https://").rsplit(":", 1)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=2).close()


def test_a_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cluster = SandboxCluster(port=busy.getsockname()[1])
        with pytest.raises(SandboxError, match="--port"):
            cluster.start()
        cluster.stop()


def test_clusters_do_not_share_a_settings_object():
    shared = SandboxSettings()
    one = SandboxCluster(name="one", lb_address="127.0.0.1", settings=shared)
    two = SandboxCluster(name="two", lb_address="127.0.0.3", settings=shared)
    assert (one.settings.cluster_name, two.settings.cluster_name) == ("one", "two")
    assert (one.settings.lb_address, two.settings.lb_address) == ("127.0.0.1", "127.0.0.3")
    assert shared.cluster_name == "sandbox"


def test_lb_address_falls_back_to_localhost_when_not_bindable():
    assert pick_lb_address("127.0.0.1") == "127.0.0.1"
    assert pick_lb_address("192.0.2.1") == "127.0.0.1"  # TEST-NET: never a local address


def test_context_names_are_numbered_two_digits_or_more():
    assert kubeconfig.context_names("lab", 3) == ["lab01", "lab02", "lab03"]
    assert kubeconfig.context_names("lab", 100)[-1] == "lab100"
    assert kubeconfig.context_names("lab", 100)[0] == "lab001"
