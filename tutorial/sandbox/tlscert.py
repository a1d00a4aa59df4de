"""A self-signed TLS certificate per sandbox cluster, so kubectl sends the cluster's bearer token.

kubectl (client-go's clientcmd) never sends a kubeconfig's credentials to a plain-HTTP server,
so a sandbox that requires a token must speak HTTPS. Each cluster makes its own P-256 key and a
certificate for its loopback address; the kubeconfig carries it as certificate-authority-data,
so kubectl and the kubernetes client verify the server instead of skipping verification.
Uses `cryptography` (a key pair and a certificate in ~20 ms; Python's ssl cannot make them).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerCert:
    """PEM certificate (also the CA clients trust) and PEM private key."""

    cert_pem: str
    key_pem: str

    def server_context(self) -> ssl.SSLContext:
        """An SSLContext serving this certificate (TLS 1.2+)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        # load_cert_chain reads files only: a private temporary directory, removed at once
        with tempfile.TemporaryDirectory(prefix="sandbox-tls-") as tmp:
            cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
            for path, text in ((cert, self.cert_pem), (key, self.key_pem)):
                with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
                    fh.write(text)
            ctx.load_cert_chain(cert, key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """An SSLContext that trusts exactly this server."""
        return ssl.create_default_context(cadata=self.cert_pem)


def make_cert(host: str = "127.0.0.1", days: int = 3650) -> ServerCert:
    """A self-signed certificate for host (an IP or a name), plus localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway-tutorial sandbox")])
    alt: list = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        address = ipaddress.ip_address(host)
        if str(address) != "127.0.0.1":
            alt.append(x509.IPAddress(address))
    except ValueError:
        alt.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return ServerCert(cert.public_bytes(serialization.Encoding.PEM).decode(),
                      key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode())
