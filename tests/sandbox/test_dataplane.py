"""The simulated data plane: listeners follow programmed Gateways, answer like Envoy, survive bind errors."""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request

import istio_fixtures as fx
import pytest

from tutorial.sandbox.dataplane.proxy import DataPlane
from tutorial.sandbox.istio import status as st
from tutorial.sandbox.istio.model import (ENDPOINTS, GATEWAYCLASSES, GATEWAYS, HTTPROUTES, NAMESPACES, PODS,
                                          SERVICES, World)
from tutorial.sandbox.storage.store import Store

PORT = 8080


def _fill(store: Store, address: str) -> None:
    """The objects of the blog after istiod ran, straight into a store (no controllers)."""
    world = fx.blog_world(lb_ip=address)
    for name, labels in world.namespaces.items():
        store.create(NAMESPACES, {"metadata": {"name": name, "labels": labels}})
    store.create(GATEWAYCLASSES, world.classes["istio"])
    for svc in world.services.values():
        store.create(SERVICES, svc)
    for ep in world.endpoints.values():
        store.create(ENDPOINTS, ep)
    store.create(HTTPROUTES, world.routes[0])
    gw = dict(world.gateways[0], status=st.gateway_status(world, world.gateways[0]))
    store.create(GATEWAYS, gw)
    store.create(PODS, {"metadata": {"name": "web-1", "namespace": "emojivoto", "labels": {"app": "web-svc"}},
                        "spec": {"containers": [{"name": "web-svc",
                                                 "image": "docker.l5d.io/buoyantio/emojivoto-web:v11"}]}})


def _get(address: str, path: str = "/") -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(f"http://{address}:{PORT}{path}", timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


@pytest.fixture
def plane():
    store, errors = Store(), []
    dp = DataPlane(store, on_error=lambda gw, msg: errors.append(msg))
    dp.errors_seen = errors
    yield dp
    dp.stop()


def test_programmed_gateway_serves_emojivoto_and_follows_changes(plane):
    address = fx.unique_lb_address()
    _fill(plane.store, address)
    plane.sync()
    assert list(plane.servers) == [(address, PORT)]
    status, headers, body = _get(address)
    assert status == 200 and "<title>Emoji Vote</title>" in body and headers["Server"] == "istio-envoy"
    ep = plane.store.get(ENDPOINTS, "emojivoto", "web-svc")
    ep["subsets"] = []
    plane.store.update(ENDPOINTS, ep)
    assert _get(address)[:3:2] == (503, "no healthy upstream")
    plane.store.delete(HTTPROUTES, "emojivoto", "emojivoto")
    assert _get(address)[0] == 404
    plane.store.delete(GATEWAYS, "istio-ingress", "emojivoto")
    plane.sync()
    assert plane.servers == {}
    with pytest.raises(OSError):
        _get(address)


def test_bind_failure_is_recorded_not_raised(plane):
    address = fx.unique_lb_address()
    _fill(plane.store, address)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        holder.bind((address, PORT))
        holder.listen()
        plane.sync()
        assert plane.servers == {}
        assert "cannot listen on" in plane.errors[(address, PORT)]
        # the holder is named where Linux lets us see it (here: this very test process)
        assert plane.errors_seen and (f"(pid {os.getpid()}) holds that port" in plane.errors_seen[0]
                                      or "another program" in plane.errors_seen[0])
    plane.sync()  # the port is free again: the retry succeeds
    assert list(plane.servers) == [(address, PORT)] and plane.errors == {}


def test_non_loopback_address_is_refused(plane):
    _fill(plane.store, "192.0.2.10")
    plane.sync()
    assert plane.servers == {}
    assert "not a loopback address" in plane.errors[("192.0.2.10", PORT)]


def test_world_sees_pods_only_when_asked(plane):
    _fill(plane.store, "127.0.0.1")
    assert World.from_store(plane.store).pods == []
    assert len(World.from_store(plane.store, with_pods=True).pods) == 1


def _next_reason(watch, reason: str, timeout: float = 30.0) -> bool:
    """Read the event watch until an Event with this reason arrives (or the timeout passes)."""
    import time

    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            item = watch.next(timeout=max(0.0, deadline - time.monotonic()))
            if item and item[1].get("reason") == reason:
                return True
        return False
    finally:
        watch.close()


def test_listeners_close_when_the_cluster_stops_without_close(tmp_path):
    """cluster.stop() alone frees the gateway port (the next cluster may want it)."""
    blog = fx.start_blog(tmp_path)
    blog.tool("istioctl install --set profile=minimal -y")
    blog.kubectl("create", "namespace", "istio-ingress")
    blog.install_crds()
    blog.apply(fx.GATEWAY_YAML)
    blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")
    plane = next(c for c in blog.sb.cluster.runtime.controllers if c.name == "dataplane")
    assert blog.http("/")[0] == 404  # listening: no route yet
    blog.sb.cluster.stop()
    plane._watcher.join(timeout=30)
    assert plane.plane.servers == {}
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((blog.address, PORT))
