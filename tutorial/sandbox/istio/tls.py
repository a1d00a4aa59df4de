"""HTTPS listeners: resolve certificateRefs as Istio 1.27's buildTLS does, and build Python ssl contexts.

A listener's refs resolve when each names a core Secret that exists, holds `tls.crt`/`tls.key`
(or `cert`/`key`) that parse as a PEM certificate and matching key, and, in another namespace, is
allowed by a ReferenceGrant from Gateways of the listener's namespace. Otherwise the listener gets
ResolvedRefs False (InvalidCertificateRef or RefNotPermitted, Istio's messages) and Programmed
False "Bad TLS configuration", and the data plane does not serve it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import ssl
import tempfile
from dataclasses import dataclass
from functools import lru_cache

from tutorial.sandbox.istio.model import GROUP, World, key

INVALID = "InvalidCertificateRef"
NOT_PERMITTED = "RefNotPermitted"


@dataclass
class TlsResult:
    """The certificate a listener serves (PEM), or why it cannot serve one."""

    cert: bytes = b""
    key: bytes = b""
    reason: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def _ref_string(ref: dict) -> str:
    """Istio's objectReferenceString: group/kind/name.namespace, fields as written."""
    return f"{ref.get('group', '')}/{ref.get('kind', '')}/{ref.get('name', '')}.{ref.get('namespace', '')}"


def _decode(secret: dict, *names: str) -> bytes | None:
    data = secret.get("data") or {}
    for name in names:
        if name in data:
            try:
                return base64.b64decode(data[name])
            except ValueError:
                return b""
    return None


def _pair_error(cert: bytes, key_pem: bytes) -> str | None:
    """Go's tls.X509KeyPair errors for what Python's ssl cannot load."""
    if b"-----BEGIN CERTIFICATE-----" not in cert:
        return "tls: failed to find any PEM data in certificate input"
    if b"PRIVATE KEY-----" not in key_pem:
        return "tls: failed to find any PEM data in key input"
    try:
        context_for(cert, key_pem)
    except (ssl.SSLError, OSError):
        return "tls: private key does not match public key"
    return None


def _secret_ref(world: World, ref: dict, gw_ns: str) -> TlsResult:
    group, kind = ref.get("group", ""), ref.get("kind", "Secret")
    if group not in ("", "core") or kind != "Secret":
        return TlsResult(reason=INVALID, message=f"invalid certificate reference {_ref_string(ref)}, only secret is allowed")
    ns, name = ref.get("namespace") or gw_ns, ref.get("name", "")
    secret = world.secrets.get((ns, name))
    if secret is None:
        return TlsResult(reason=INVALID, message=f"invalid certificate reference {_ref_string(ref)}, secret {ns}/{name} not found")
    cert, key_pem = _decode(secret, "tls.crt", "cert"), _decode(secret, "tls.key", "key")
    if cert is None or key_pem is None:
        found = ", ".join(sorted(secret.get("data") or {}))
        return TlsResult(reason=INVALID, message=f"invalid certificate reference {_ref_string(ref)}, found secret, but "
                         f"didn't have expected keys (cert and key) or (tls.crt and tls.key); found: {found}")
    problem = _pair_error(cert, key_pem)
    if problem:
        return TlsResult(reason=INVALID, message=f"invalid certificate reference {_ref_string(ref)}, the certificate is "
                         f"malformed: {problem}")
    if ns != gw_ns and not secret_grant_allows(world, gw_ns, ns, name):
        return TlsResult(reason=NOT_PERMITTED, message=f'certificateRef {name}/{ns} not accessible to a Gateway in '
                         f'namespace "{gw_ns}" (missing a ReferenceGrant?)')
    return TlsResult(cert=cert, key=key_pem)


def secret_grant_allows(world: World, from_ns: str, to_ns: str, name: str) -> bool:
    """A ReferenceGrant in to_ns lets Gateways in from_ns use this Secret."""
    for grant in world.grants:
        if key(grant)[0] != to_ns:
            continue
        spec = grant.get("spec") or {}
        src = any(f.get("group") == GROUP and f.get("kind") == "Gateway" and f.get("namespace") == from_ns
                  for f in spec.get("from") or [])
        dst = any((t.get("group") or "") == "" and t.get("kind") == "Secret" and (not t.get("name") or t["name"] == name)
                  for t in spec.get("to") or [])
        if src and dst:
            return True
    return False


def listener_tls(world: World, gateway: dict, listener: dict) -> TlsResult | None:
    """None for listeners without TLS termination; else the first usable certificate or the error."""
    tls = listener.get("tls")
    if listener.get("protocol") != "HTTPS" or not tls or (tls.get("mode") or "Terminate") != "Terminate":
        return None
    refs = tls.get("certificateRefs") or []
    if len(refs) > 2:
        return TlsResult(reason=INVALID, message="TLS mode can only support up to 2 server certificates")
    errors = []
    for ref in refs:
        result = _secret_ref(world, ref, key(gateway)[0])
        if result.ok:
            return result
        errors.append(result)
    if not errors:
        return TlsResult()
    return TlsResult(reason=errors[0].reason, message="; ".join(e.message for e in errors))


@lru_cache(maxsize=64)
def _context(digest: str, cert: bytes, key_pem: bytes) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="sandbox-tls-") as tmp:
        cert_path, key_path = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
        with open(cert_path, "wb") as fh:
            fh.write(cert)
        with open(key_path, "wb") as fh:
            fh.write(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


def context_for(cert: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A server SSLContext for one certificate (cached by content)."""
    return _context(hashlib.sha256(cert + key_pem).hexdigest(), cert, key_pem)
