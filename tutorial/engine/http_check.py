"""The http_get check: a real HTTP request, to a URL or through a Gateway's address and port.

HTTP has no watch: the check retries with a short backoff (0.2 s doubling to 1 s) until the
answer is right or the deadline passes, and reports the last answer it got. When the Gateway has
no address a browser could use (no LoadBalancer, or a cluster-internal name), the check reaches
the Gateway's Service through a port-forward it starts and stops itself, and says so.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request

from tutorial.cluster.client import ClusterError
from tutorial.engine.checks import GATEWAY_API, check
from tutorial.engine.settle import HttpRepeat

REQUEST_TIMEOUT = 3.0
LB_GRACE = 20.0  # seconds to wait for an address a load-balancer controller is working on
INTERNAL_SUFFIXES = (".svc.cluster.local", ".svc")
EVENT_SETTLE = 5.0  # seconds after a Service's creation before "no load-balancer Event" means "none will come"


def gateway_url(client, through: dict, path: str) -> tuple[str | None, str]:
    """http://ADDRESS:PORT/path for a Gateway listener, or None and why not."""
    url, why, _, _ = _resolve(client, through, path)
    return url, why


def _resolve(client, through: dict, path: str) -> tuple[str | None, str, dict | None, dict | None]:
    """(url or None, why not, the Gateway, the listener)."""
    ref = client.resource(GATEWAY_API, "Gateway")
    gw = client.get(ref, through["namespace"], through["name"])
    if gw is None:
        return None, f"Gateway {through['name']} not found in namespace {through['namespace']}", None, None
    listeners = gw.get("spec", {}).get("listeners") or []
    wanted = through.get("listener")
    listener = next((l for l in listeners if wanted is None or l.get("name") == wanted), None)
    if listener is None:
        return None, f"Gateway {through['name']} has no listener {wanted or ''}".strip(), gw, None
    addresses = (gw.get("status") or {}).get("addresses") or []
    if not addresses:
        return None, f"Gateway {through['name']} has no address yet (status.addresses is empty)", gw, listener
    host = addresses[0].get("value")
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{listener.get('port')}{path}", "", gw, listener


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


def _pause(ctx, delay: float, deadline: float) -> bool:
    """Wait before the next try; False when out of time or cancelled."""
    if time.monotonic() + delay > deadline or (ctx.cancel is not None and ctx.cancel.is_set()):
        return False
    if ctx.cancel is not None:
        return not ctx.cancel.wait(delay)
    time.sleep(delay)
    return True


def forward_reason(ctx, gw: dict, address_missing: bool, waited: float, timeout: float) -> str | None:
    """Why a browser could not use the Gateway's address (so a port-forward is needed), or None to wait."""
    from tutorial.engine.portforward import gateway_service, lb_events

    if not address_missing:
        host = ((gw.get("status") or {}).get("addresses") or [{}])[0].get("value", "")
        return f"the Gateway's address {host} is a cluster-internal name" if host.endswith(INTERNAL_SUFFIXES) else None
    svc = gateway_service(ctx.client, gw)
    if svc is None:
        return None  # istiod has not created it yet: wait
    kind = (svc.get("spec") or {}).get("type", "ClusterIP")
    if kind != "LoadBalancer":
        return f"the Gateway's Service is {kind}, so it gets no external address"
    facts = getattr(ctx, "facts", None) or {}
    settled = _age(svc) >= EVENT_SETTLE  # a controller that acts leaves its Event within a second or two
    if facts.get("lb_available") is False or (settled and not lb_events(ctx.client, svc)):
        return "no LoadBalancer address (nothing on this cluster assigns one)"
    if waited >= min(LB_GRACE, timeout / 2):
        return f"no LoadBalancer address after {waited:.0f} s"
    return None


def _age(obj: dict) -> float:
    """Seconds since the object was created (by our clock; 0 when unknown)."""
    from datetime import datetime, timezone

    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    try:
        created = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return 0.0
    return (datetime.now(timezone.utc) - created).total_seconds()


def _settled(ctx, repeat, status, gw, observed: str) -> bool:
    """Tell the watch what the probe saw; True when the same error answer has settled."""
    watch = getattr(ctx, "watch", None)
    if watch is None:
        return False
    watch.observe(observed)
    why = repeat.settled(status, gw)
    if why:
        watch.settle(f"{observed} ({why})")
    return why is not None


@check("http_get")
def _http_get(ctx, p, timeout):
    path = p.get("path", "/")
    want, contains = int(p.get("status", 200)), p.get("contains")
    start = time.monotonic()
    deadline, delay, silent_since = start + timeout, 0.2, None
    repeat, gw = HttpRepeat(), None
    url = status = None
    body = error = ""
    while True:
        try:
            if p.get("url"):
                url, error, gw, listener = p["url"], "", None, None
            else:
                url, error, gw, listener = _resolve(ctx.client, p["through_gateway"], path)
                if gw is not None and listener is not None:
                    reason = forward_reason(ctx, gw, url is None, time.monotonic() - start, timeout) \
                        or _silent_reason(url, error, silent_since, timeout)
                    if reason:
                        return _through_forward(ctx, gw, listener, path, want, contains, deadline, reason)
        except ClusterError as exc:
            return False, str(exc), {"_error": exc}
        if url is not None:
            status, body, error = fetch(url)
            if _matches(status, body, want, contains):
                break
            silent_since = (silent_since or time.monotonic()) if status is None else None
            if _settled(ctx, repeat, status, gw, _observe(url, status, body, error, contains)):
                break
        elif getattr(ctx, "watch", None) is not None:
            ctx.watch.observe(error)
        if not _pause(ctx, delay, deadline):
            break
        delay = min(delay * 2, 1.0)
    evidence = {"url": url, "http_status": status, "body": body[:2000], "error": error, "via": "address"}
    return _matches(status, body, want, contains), _observe(url, status, body, error, contains), evidence


def _silent_reason(url, error, silent_since, timeout) -> str | None:
    """An address that has not answered at all for a while is not reachable from here (k3d or MetalLB
    addresses on Docker Desktop for Mac/Windows): then a port-forward is the way in."""
    if url is None or silent_since is None or time.monotonic() - silent_since < min(LB_GRACE, timeout / 2):
        return None
    return f"the Gateway's address in {url} does not answer from this machine ({error})"


def _through_forward(ctx, gw, listener, path, want, contains, deadline, reason):
    """Reach the Gateway's Service through a port-forward for the rest of the check, then stop it.

    A forward that cannot start yet (the proxy pod is still starting) is tried again until the deadline.
    """
    from tutorial.engine.portforward import ForwardError

    evidence = {"via": "port-forward", "forward_reason": reason, "url": None, "http_status": None, "body": "",
                "error": ""}
    delay = 0.2
    while True:
        try:
            return _forward_once(ctx, gw, listener, path, want, contains, deadline, reason, evidence)
        except ForwardError as exc:
            evidence["error"] = str(exc)
        if not _pause(ctx, delay, deadline):
            return False, f"{reason}; a port-forward to the Gateway's Service did not start: {evidence['error']}", \
                evidence
        delay = min(delay * 2, 1.0)


def _forward_once(ctx, gw, listener, path, want, contains, deadline, reason, evidence):
    from tutorial.engine.portforward import ForwardError, gateway_service, open_forward
    from tutorial.engine.runner import RunTarget

    svc = gateway_service(ctx.client, gw)
    if svc is None:
        raise ForwardError("the Gateway's Service does not exist yet")
    run_target = getattr(ctx, "run_target", None) or RunTarget(kubeconfig=ctx.client.kubeconfig,
                                                               context=ctx.client.context)
    meta, port = svc["metadata"], int(listener.get("port"))
    with open_forward(ctx.client, run_target, meta["namespace"], meta["name"], port,
                      sandbox=getattr(ctx, "sandbox", None)) as (base, shown):
        evidence["forward_command"] = shown
        url, status, body, error = _poll(ctx, base + path, want, contains, deadline, gw)
    evidence.update(url=url, http_status=status, body=body[:2000], error=error)
    observed = f"{_observe(url, status, body, error, contains)} ({reason}; reached the Gateway through a " \
               f"port-forward: {shown})"
    return _matches(status, body, want, contains), observed, evidence


def _poll(ctx, url, want, contains, deadline, gw=None):
    delay, status, body, error, repeat = 0.2, None, "", "", HttpRepeat()
    while True:
        status, body, error = fetch(url)
        if _matches(status, body, want, contains) or _settled(ctx, repeat, status, gw,
                                                              _observe(url, status, body, error, contains)):
            return url, status, body, error
        if not _pause(ctx, delay, deadline):
            return url, status, body, error
        delay = min(delay * 2, 1.0)
