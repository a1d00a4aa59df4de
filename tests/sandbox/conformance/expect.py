"""Send one conformance request to the simulated gateway and judge the answer as the upstream suite does.

Our reading of conformance/utils/http (v1.3.0): status must match (200 when unset); a 200 carries
the echo server's JSON, whose path, method, namespace, headers (joined by ",") and pod-name prefix
must match, and listed request/response headers must be absent; a redirect's Location must carry
the expected scheme, host, port (80/443 may be left out) and path.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from urllib.parse import urlsplit

WELL_KNOWN = {"http": 80, "https": 443}


def request_host(expected: dict, address: str, port: int, scheme: str) -> str:
    host = (expected.get("Request") or {}).get("Host") or ""
    if host:
        return host
    return address if WELL_KNOWN.get(scheme) == port else f"{address}:{port}"


def send(expected: dict, address: str, port: int, scheme: str = "http",
         tls: ssl.SSLContext | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """One request as MakeRequest builds it: (status, lower-cased response headers, body)."""
    req = expected.get("Request") or {}
    host = request_host(expected, address, port, scheme)
    conn = http.client.HTTPConnection(address, port, timeout=15)
    if scheme == "https":  # connect to the address, but verify and send SNI for the Host's name
        raw = socket.create_connection((address, port), timeout=15)
        conn.sock = tls.wrap_socket(raw, server_hostname=host.rsplit(":", 1)[0])
    try:
        conn.putrequest(req.get("Method") or "GET", req.get("Path") or "/", skip_host=True,
                        skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in (req.get("Headers") or {}).items():
            conn.putheader(name, value)
        echo = ",".join(f"{k}:{v}" for k, v in (expected.get("BackendSetResponseHeaders") or {}).items())
        conn.putheader("X-Echo-Set-Header", echo)
        conn.endheaders()
        resp = conn.getresponse()
        headers: dict[str, list[str]] = {}
        for name, value in resp.getheaders():
            headers.setdefault(name.lower(), []).append(value)
        return resp.status, headers, resp.read()
    finally:
        conn.close()


def judge(expected: dict, status: int, headers: dict[str, list[str]], body: bytes, scheme: str) -> str | None:
    """None when the answer is what the upstream test expects, else why not."""
    response = expected.get("Response") or {}
    want = response.get("StatusCode") or 200
    if status != want:
        return f"status {status}, expected {want} (body {body[:200]!r})"
    if status == 200:
        return _judge_echo(expected, headers, body)
    if 300 <= status < 400 and expected.get("RedirectRequest"):
        return _judge_redirect(expected, headers, scheme)
    return None


def _judge_echo(expected: dict, headers: dict[str, list[str]], body: bytes) -> str | None:
    try:
        got = json.loads(body)
    except ValueError:
        return f"not an echo answer: {body[:200]!r}"
    exp = expected.get("ExpectedRequest") or {"Request": expected.get("Request") or {}}
    exp_req = exp.get("Request") or {}
    got_headers = {k.lower(): v for k, v in (got.get("headers") or {}).items()}
    checks = [
        (not exp_req.get("Host") or exp_req["Host"] == got.get("host"), f"host {got.get('host')!r}, expected {exp_req.get('Host')!r}"),
        ((exp_req.get("Path") or "") == got.get("path"), f"path {got.get('path')!r}, expected {exp_req.get('Path')!r}"),
        ((exp_req.get("Method") or "GET") == got.get("method"), f"method {got.get('method')}"),
        ((expected.get("Namespace") or "") == got.get("namespace"), f"namespace {got.get('namespace')!r}, expected {expected.get('Namespace')!r}"),
        (str(got.get("pod", "")).startswith(expected.get("Backend") or ""), f"pod {got.get('pod')!r}, expected {expected.get('Backend')}-*"),
    ]
    for name, value in (exp_req.get("Headers") or {}).items():
        actual = ",".join(got_headers.get(name.lower()) or [])
        checks.append((name.lower() in got_headers and actual == value, f"request header {name}={actual!r}, expected {value!r}"))
    for name in exp.get("AbsentHeaders") or []:
        checks.append((name.lower() not in got_headers, f"request header {name} present"))
    response = expected.get("Response") or {}
    for name, value in (response.get("Headers") or {}).items():
        actual = ",".join(headers.get(name.lower()) or [])
        checks.append((name.lower() in headers and actual == value, f"response header {name}={actual!r}, expected {value!r}"))
    for name in response.get("AbsentHeaders") or []:
        checks.append((name.lower() not in headers, f"response header {name} present"))
    return next((why for ok, why in checks if not ok), None)


def _judge_redirect(expected: dict, headers: dict[str, list[str]], scheme: str) -> str | None:
    location = (headers.get("location") or [""])[0]
    got = urlsplit(location)
    want = expected["RedirectRequest"]
    req = expected.get("Request") or {}
    want_scheme = want.get("Scheme") or scheme
    want_path = want.get("Path") or (req.get("Path") or "/").split("?")[0]
    port = str(got.port) if got.port else ""
    if want.get("Host") and want["Host"] != got.hostname:
        return f"redirect host {got.hostname!r}, expected {want['Host']!r} ({location})"
    if want.get("Port"):
        if port != str(want["Port"]):
            return f"redirect port {port!r}, expected {want['Port']!r} ({location})"
    elif port not in ("", str(WELL_KNOWN.get(got.scheme, "")) or ""):
        return f"redirect port {port!r}, expected the scheme's default ({location})"
    if got.scheme != want_scheme:
        return f"redirect scheme {got.scheme!r}, expected {want_scheme!r} ({location})"
    if got.path != want_path:
        return f"redirect path {got.path!r}, expected {want_path!r} ({location})"
    return None
