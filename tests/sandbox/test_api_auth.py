"""The sandbox API server trusts no connection (issue 19): a random bearer token per cluster over
TLS (401 without it), kubeconfig and state files 0600, idle and read timeouts, a bounded worker
pool that answers 429 with Retry-After under overload instead of growing threads."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.parse

import pytest

from cluster_fixtures import fast_settings
from tlsfix import https_connection
from tutorial.sandbox.api.resources import Registry
from tutorial.sandbox.api.server import ApiServer
from tutorial.sandbox.storage.store import Store


def _get(server, path, token):
    conn = https_connection(server, 10)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    body = json.loads(raw) if "json" in (resp.getheader("Content-Type") or "") else raw.decode()
    conn.close()
    return resp.status, body, resp


@pytest.fixture
def server():
    s = ApiServer(Store(), Registry.builtin(), workers=4, idle_timeout=1.0, read_timeout=1.0).start()
    yield s
    s.stop()


def test_every_request_needs_the_token(server):
    assert server.url.startswith("https://") and len(server.token) >= 40
    for path in ("/version", "/readyz", "/api/v1/namespaces", "/apis"):
        for token in (None, "", "x", server.token[:-1]):
            status, body, _ = _get(server, path, token)
            assert status == 401 and body["reason"] == "Unauthorized", (path, token)
        assert _get(server, path, server.token)[0] == 200
    other = ApiServer(Store(), Registry.builtin()).start()
    try:
        assert other.token != server.token and _get(other, "/version", server.token)[0] == 401
    finally:
        other.stop()


def test_kubectl_needs_the_token_the_kubeconfig_carries(api):
    assert oct(api.kubeconfig.stat().st_mode & 0o777) == "0o600"
    assert "kube-system" in api.kubectl("get", "namespaces").stdout
    api.kubeconfig.write_text(api.kubeconfig.read_text().replace(api.token, "guessed"))
    proc = api.kubectl("get", "namespaces", check=False)
    assert proc.returncode != 0 and "Unauthorized" in proc.stderr


def test_state_and_kubeconfig_files_are_private(tmp_path):
    from tutorial.sandbox.embedded import acquire_embedded

    sandbox = acquire_embedded(tmp_path / "sb", settings=fast_settings())
    try:
        sandbox_files = [sandbox.kubeconfig, tmp_path / "sb" / "owner.json"]
    finally:
        sandbox.release()
    sandbox_files += [p for p in (tmp_path / "sb").iterdir() if p.suffix == ".json" or "state" in p.name]
    for path in sandbox_files:
        if path.exists():
            assert oct(path.stat().st_mode & 0o777) == "0o600", path


def _tls_socket(server):
    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    raw = socket.create_connection((host, int(port)), timeout=10)
    return ssl.create_default_context(cadata=server.ca_pem).wrap_socket(raw, server_hostname=host)


def test_idle_and_half_sent_connections_are_closed(server):
    idle = _tls_socket(server)
    half = _tls_socket(server)
    half.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n")  # the headers never end
    start = time.monotonic()
    assert idle.recv(1) == b"" and half.recv(1) == b""  # the server hung up on both
    assert time.monotonic() - start < 8
    idle.close()
    half.close()


def test_overload_gets_429_with_retry_after_not_more_threads(server):
    before = threading.active_count()
    held = [_tls_socket(server) for _ in range(4)]  # every worker busy with a silent client
    time.sleep(0.2)
    status, body, resp = _get(server, "/version", server.token)
    assert status == 429 and body["reason"] == "TooManyRequests" and resp.getheader("Retry-After") == "1"
    assert threading.active_count() <= before + 4 + 2
    for sock in held:
        sock.close()
    deadline = time.monotonic() + 5
    while _get(server, "/version", server.token)[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)
