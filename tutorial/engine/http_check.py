"""The http_get check: a real HTTP request, to a URL or through a Gateway's address and port.

HTTP has no watch: the check retries with a short backoff (0.2 s doubling to 1 s) until the
answer is right or the deadline passes, and reports the last answer it got.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request

from tutorial.cluster.client import ClusterError
from tutorial.engine.checks import GATEWAY_API, check

REQUEST_TIMEOUT = 3.0


def gateway_url(client, through: dict, path: str) -> tuple[str | None, str]:
    """http://ADDRESS:PORT/path for a Gateway listener, or None and why not."""
    ref = client.resource(GATEWAY_API, "Gateway")
    gw = client.get(ref, through["namespace"], through["name"])
    if gw is None:
        return None, f"Gateway {through['name']} not found in namespace {through['namespace']}"
    listeners = gw.get("spec", {}).get("listeners") or []
    wanted = through.get("listener")
    listener = next((l for l in listeners if wanted is None or l.get("name") == wanted), None)
    if listener is None:
        return None, f"Gateway {through['name']} has no listener {wanted or ''}".strip()
    addresses = (gw.get("status") or {}).get("addresses") or []
    if not addresses:
        return None, f"Gateway {through['name']} has no address yet (status.addresses is empty)"
    host = addresses[0].get("value")
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{listener.get('port')}{path}", ""


def fetch(url: str) -> tuple[int | None, str, str]:
    """(status, body, error) of a GET; status None when nothing answered."""
    request = urllib.request.Request(url, headers={"User-Agent": "gateway-tutorial-check"})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as resp:
            return resp.status, resp.read(65536).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(65536).decode("utf-8", "replace") if exc.fp else "", ""
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", str(reason)


def _matches(status, body, want_status, contains) -> bool:
    return status == want_status and (not contains or contains in body)


def _observe(url, status, body, error, contains) -> str:
    if url is None:
        return error
    if status is None:
        return f"GET {url}: no answer ({error})"
    text = f"GET {url}: HTTP {status}"
    if contains:
        text += f", page {'contains' if contains in body else 'does not contain'} {contains!r}"
    return text


@check("http_get")
def _http_get(ctx, p, timeout):
    path = p.get("path", "/")
    want, contains = int(p.get("status", 200)), p.get("contains")
    deadline, delay = time.monotonic() + timeout, 0.2
    url = status = None
    body = error = ""
    while True:
        try:
            url, error = (p["url"], "") if p.get("url") else gateway_url(ctx.client, p["through_gateway"], path)
        except ClusterError as exc:
            return False, str(exc), {"_error": exc}
        if url is not None:
            status, body, error = fetch(url)
            if _matches(status, body, want, contains):
                break
        if time.monotonic() + delay > deadline or (ctx.cancel is not None and ctx.cancel.wait(0)):
            break
        if ctx.cancel is not None and ctx.cancel.wait(delay):
            break
        if ctx.cancel is None:
            time.sleep(delay)
        delay = min(delay * 2, 1.0)
    evidence = {"url": url, "http_status": status, "body": body[:2000], "error": error}
    return _matches(status, body, want, contains), _observe(url, status, body, error, contains), evidence
