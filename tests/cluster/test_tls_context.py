"""One TLS context per cluster configuration: a client and its siblings share it, the server's
certificate is still verified against the kubeconfig's CA, and insecure-skip-tls-verify still skips.
Against real sandbox API servers over HTTPS."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tutorial.cluster.client import ClusterClient, ClusterError
from tutorial.sandbox import kubeconfig
from tutorial.sandbox.cluster import SandboxCluster


@pytest.fixture
def two():
    a, b = SandboxCluster("a", token="t").start(), SandboxCluster("b", token="t").start()
    yield a, b
    a.stop()
    b.stop()


def _kubeconfig(path: Path, server: str, cluster: dict) -> str:
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path.write_text(json.dumps(doc))
    return str(path)


def _ca(server: str) -> dict:
    return {"certificate-authority-data": base64.b64encode(kubeconfig.ca_for(server).encode()).decode()}


def _pool_kw(client: ClusterClient) -> dict:
    return client.api.rest_client.pool_manager.connection_pool_kw


def test_siblings_share_one_context_and_the_server_is_verified(two, tmp_path):
    a, _ = two
    client = ClusterClient(_kubeconfig(tmp_path / "kc", a.url, _ca(a.url)), "c")
    twin = client.sibling()
    try:
        assert client.get_json("/version")["gitVersion"] and twin.get_json("/version")["gitVersion"]
        kw = _pool_kw(client)
        assert kw["ssl_context"] is _pool_kw(twin)["ssl_context"]
        assert not {"ca_certs", "ca_cert_data", "cert_file", "key_file"} & set(kw)  # not loaded per connection
    finally:
        client.close()
        twin.close()


def test_a_certificate_from_another_ca_is_refused(two, tmp_path):
    a, b = two
    client = ClusterClient(_kubeconfig(tmp_path / "kc", a.url, _ca(b.url)), "c")  # b's CA for a's server
    try:
        with pytest.raises(ClusterError, match="not trusted") as caught:
            client.get_json("/version", retry=None)
        assert caught.value.unreachable
    finally:
        client.close()


def test_insecure_skip_tls_verify_still_connects(two, tmp_path):
    a, _ = two
    client = ClusterClient(_kubeconfig(tmp_path / "kc", a.url, {"insecure-skip-tls-verify": True}), "c")
    try:
        assert client.get_json("/version")["gitVersion"]
    finally:
        client.close()
