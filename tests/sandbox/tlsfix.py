"""HTTPS connections to a sandbox API server that trust its own certificate."""

from __future__ import annotations


def https_connection(server, timeout: float = 30):
    """http.client.HTTPSConnection to an ApiServer (or anything with .url and .ca_pem)."""
    import http.client
    import ssl
    import urllib.parse

    host, port = urllib.parse.urlsplit(server.url).netloc.split(":")
    context = ssl.create_default_context(cadata=server.ca_pem)
    return http.client.HTTPSConnection(host, int(port), timeout=timeout, context=context)
