"""HTTPS listeners: real TLS with the Secret's certificate, SNI picks the listener, bad refs say why."""

from __future__ import annotations

import json
import socket
import ssl
import sys
from pathlib import Path

import istio_fixtures as fx
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent / "conformance"))

GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - {name: a, port: 8443, protocol: HTTPS, hostname: a.example.org,
     tls: {certificateRefs: [{name: cert-a}]}}
  - {name: b, port: 8443, protocol: HTTPS, hostname: b.example.org,
     tls: {certificateRefs: [{name: cert-b}]}}
  - {name: missing, port: 9443, protocol: HTTPS, tls: {certificateRefs: [{name: nope}]}}
  - {name: other-ns, port: 9444, protocol: HTTPS, tls: {certificateRefs: [{name: cert-a, namespace: default}]}}
  - {name: wrong-kind, port: 9445, protocol: HTTPS, tls: {certificateRefs: [{name: cert-a, kind: ConfigMap}]}}
"""
ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: tls}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
"""


@pytest.fixture
def shop(tmp_path):
    certs = pytest.importorskip("conformance_certs", reason="needs the cryptography package")
    from cluster_fixtures import deployment_yaml, service_yaml

    blog = fx.start_blog(tmp_path)
    try:
        blog.tool("istioctl install --set profile=minimal -y")
        blog.install_crds()
        blog.kubectl("create", "namespace", "shop")
        cas = {}
        for name, host in (("cert-a", "a.example.org"), ("cert-b", "b.example.org")):
            (tmp_path / name).mkdir()
            crt, key, ca = certs.make(tmp_path / name, [host])
            cas[host] = ca
            for ns in ("shop", "default"):
                blog.kubectl("create", "secret", "tls", name, "-n", ns, f"--cert={crt}", f"--key={key}")
        blog.apply(deployment_yaml("web", ns="shop") + "---\n" + service_yaml("web", ns="shop") + "---\n"
                   + GATEWAY + "---\n" + ROUTE)
        blog.wait("--for=condition=programmed", "gtw/tls", "-n", "shop")
        blog.wait("--for=condition=Available", "deploy/web", "-n", "shop")
        blog.cas = cas
        yield blog
    finally:
        blog.stop()


def _get(address: str, port: int, name: str, ca: Path) -> tuple[int, dict]:
    context = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection((address, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(f"GET /hello HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_sni_selects_the_listener_and_its_certificate(shop):
    gw = shop.get("gateway", "tls", "shop")
    address = gw["status"]["addresses"][0]["value"]
    for host in ("a.example.org", "b.example.org"):
        status, echoed = _get(address, 8443, host, shop.cas[host])  # verifies the listener's own cert
        assert status == 200 and echoed["host"] == host and echoed["headers"]["X-Forwarded-Proto"] == ["https"]
    with pytest.raises(ssl.SSLError):  # a's certificate is not trusted for b's CA: the SNI really picks
        _get(address, 8443, "b.example.org", shop.cas["a.example.org"])


def test_bad_certificate_refs_are_reported_as_istio_does_and_not_served(shop):
    gw = shop.get("gateway", "tls", "shop")
    listeners = {lst["name"]: {c["type"]: (c["status"], c["reason"], c["message"]) for c in lst["conditions"]}
                 for lst in gw["status"]["listeners"]}
    assert listeners["a"]["Programmed"][:2] == ("True", "Programmed")
    assert listeners["missing"]["ResolvedRefs"] == (
        "False", "InvalidCertificateRef", "invalid certificate reference /Secret/nope., secret shop/nope not found")
    assert listeners["missing"]["Programmed"] == ("False", "Invalid", "Bad TLS configuration")
    assert listeners["other-ns"]["ResolvedRefs"] == (
        "False", "RefNotPermitted",
        'certificateRef cert-a/default not accessible to a Gateway in namespace "shop" (missing a ReferenceGrant?)')
    assert listeners["wrong-kind"]["ResolvedRefs"][:2] == ("False", "InvalidCertificateRef")
    assert "only secret is allowed" in listeners["wrong-kind"]["ResolvedRefs"][2]
    address = gw["status"]["addresses"][0]["value"]
    with pytest.raises((ssl.SSLError, ConnectionError)):  # nothing valid to serve: the handshake fails
        _get(address, 9443, "x.example.org", shop.cas["a.example.org"])
    grant = {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
             "metadata": {"name": "shop-certs", "namespace": "default"},
             "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Secret"}]}}
    shop.apply(yaml.safe_dump(grant))
    shop.wait("--for=jsonpath={.status.listeners[3].conditions[?(@.type=='ResolvedRefs')].status}=True",
              "gtw/tls", "-n", "shop")
