"""One TLS context per cluster configuration, shared by every connection of its clients.

The kubernetes client hands urllib3 the CA and client certificate as file names, and urllib3
then builds a new SSLContext and reads the CA file for every new connection. A fleet command
opens ~9 connections per cluster (checks run concurrently), and a status of 100 clusters spent
~10% of its CPU there. Here the context is built once, with the same settings urllib3 would
use (its own defaults, the same verification), and the pools get it instead of the file names.
"""

from __future__ import annotations

import ssl
import threading
import weakref

_CONTEXTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Configuration -> SSLContext
_LOCK = threading.Lock()
_FILES = ("ca_certs", "ca_cert_data", "cert_file", "key_file")


def share_context(api) -> None:
    """Give the ApiClient's connection pools one SSLContext for its configuration."""
    pools = getattr(getattr(api, "rest_client", None), "pool_manager", None)
    kw = getattr(pools, "connection_pool_kw", None)
    if kw is None or "ssl_context" in kw:
        return
    with _LOCK:
        context = _CONTEXTS.get(api.configuration)
        if context is None:
            context = _CONTEXTS[api.configuration] = _build(kw)
    kw["ssl_context"] = context
    for name in _FILES:  # loaded into the context: urllib3 must not load them again per connection
        kw.pop(name, None)


def _build(kw: dict) -> ssl.SSLContext:
    from urllib3.util.ssl_ import create_urllib3_context

    cert_reqs = kw.get("cert_reqs", ssl.CERT_REQUIRED)
    context = create_urllib3_context(cert_reqs=cert_reqs)
    if kw.get("ca_certs") or kw.get("ca_cert_data"):
        context.load_verify_locations(cafile=kw.get("ca_certs"), cadata=kw.get("ca_cert_data"))
    elif cert_reqs != ssl.CERT_NONE:
        context.load_default_certs()  # what urllib3 does when given no CA
    if kw.get("cert_file"):
        context.load_cert_chain(kw["cert_file"], kw.get("key_file"))
    return context
