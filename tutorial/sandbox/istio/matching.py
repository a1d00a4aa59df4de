"""Which listener, route and rule a request lands on, as the Gateway API spec and conformance define it.

- Listener isolation: of the listeners on a port, only the most specific one whose hostname
  matches the request's host is used (exact beats the longest wildcard beats no hostname).
- Hostname intersection: a route attached to a listener serves the hostnames both allow; the
  request's host then picks the most specific of those (exact, longest wildcard, "*").
- Match precedence: Exact path, longest prefix, regex; then method; then most header matches; then
  most query matches; then the oldest route, then namespace/name; then rule and match order.
- RegularExpression matches (path, header, query) use RE2 full-match semantics, as Envoy does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import re2

from tutorial.sandbox.istio import binding
from tutorial.sandbox.istio.model import World, key, meta


@dataclass
class Picked:
    """The listener, route, rule and match a request was routed by."""

    listener: binding.Listener
    route: dict
    rule: dict
    match: dict


def host_covers(pattern: str, host: str) -> bool:
    """A Gateway API hostname (exact or `*.suffix`, one or more labels) against a request host."""
    pattern, host = pattern.lower(), host.lower()
    if pattern in ("", "*"):
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return pattern == host


def specificity(pattern: str) -> tuple[int, int]:
    """Exact names first, then wildcards by length, then "*" / no hostname."""
    if pattern in ("", "*"):
        return (0, 0)
    if pattern.startswith("*."):
        return (1, len(pattern))
    return (2, len(pattern))


def intersect(listener_host: str, route_host: str) -> str | None:
    """The hostname a listener and a route hostname both allow (the more specific), or None."""
    lh, rh = (listener_host or "*").lower(), (route_host or "*").lower()
    if lh == "*":
        return rh
    if rh == "*":
        return lh
    if host_covers(lh, rh) or lh == rh:
        return rh
    if rh.startswith("*.") and host_covers(rh, lh):
        return lh
    return None


def route_hostnames(route: dict, listener: binding.Listener) -> list[str]:
    names = (route.get("spec") or {}).get("hostnames") or ["*"]
    out = [intersect(listener.hostname, str(n)) for n in names]
    return [h for h in out if h is not None]


def isolated_listener(gateway: dict, port: int, host: str) -> binding.Listener | None:
    """The one listener on `port` that serves `host`: the most specific whose hostname covers it."""
    candidates = [lst for lst in binding.listeners_of(gateway)
                  if lst.port == port and not lst.protocol_error and host_covers(lst.hostname, host)]
    return max(candidates, key=lambda lst: specificity(lst.hostname), default=None)


_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print parse errors to stderr, over the TUI


@lru_cache(maxsize=512)
def _compiled(pattern: str):
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error:
        return None  # Istio rejects such a route; here it simply never matches


def regex_full(pattern: str, value: str) -> bool:
    compiled = _compiled(pattern)
    return compiled is not None and compiled.fullmatch(value) is not None


def _path_ok(match: dict, path: str) -> tuple[bool, int, int]:
    spec = match.get("path") or {"type": "PathPrefix", "value": "/"}
    kind, value = spec.get("type", "PathPrefix"), str(spec.get("value", "/"))
    if kind == "Exact":
        return path == value, 3, len(value)
    if kind == "RegularExpression":
        return regex_full(value, path), 1, len(value)
    prefix = value.rstrip("/")
    return prefix == "" or path == prefix or path.startswith(prefix + "/"), 2, len(prefix)


def _value_ok(spec: dict, actual: str | None) -> bool:
    if actual is None:
        return False
    if spec.get("type") == "RegularExpression":
        return regex_full(str(spec.get("value", "")), actual)
    return actual == spec.get("value")


def match_weight(match: dict, method: str, path: str, headers: dict[str, str],
                 query: dict[str, str]) -> tuple | None:
    """The precedence weight of a matching HTTPRouteMatch, or None when it does not match."""
    ok, rank, length = _path_ok(match, path)
    if not ok or (match.get("method") and match["method"] != method):
        return None
    for h in match.get("headers") or []:
        if not _value_ok(h, headers.get(str(h.get("name", "")).lower())):
            return None
    for q in match.get("queryParams") or []:
        if not _value_ok(q, query.get(str(q.get("name", "")))):
            return None
    return (rank, length, bool(match.get("method")), len(match.get("headers") or []),
            len(match.get("queryParams") or []))


def _virtual_host(routes: list[dict], listener: binding.Listener, host: str) -> str | None:
    """The most specific effective hostname among the routes that covers the request host."""
    names = {h for r in routes for h in route_hostnames(r, listener) if host_covers(h, host)}
    return max(names, key=specificity, default=None)


def pick(world: World, gateway: dict, port: int, host: str, method: str, path: str,
         headers: dict[str, str], query: dict[str, str]) -> Picked | None:
    """The listener/route/rule/match Envoy would use; None means 404 (no route)."""
    listener = isolated_listener(gateway, port, host)
    if listener is None:
        return None
    routes = binding.attached_routes(world, gateway).get(listener.name) or []
    vhost = _virtual_host(routes, listener, host)
    if vhost is None:
        return None
    found = []
    for route in routes:
        if vhost not in route_hostnames(route, listener):
            continue
        age = (meta(route).get("creationTimestamp", ""), key(route))
        for r_index, rule in enumerate((route.get("spec") or {}).get("rules") or [{}]):
            for m_index, match in enumerate(rule.get("matches") or [{}]):
                weight = match_weight(match, method, path, headers, query)
                if weight is not None:  # sort ascending: heaviest match, then oldest, then first
                    order = (tuple(-int(w) for w in weight), age, r_index, m_index)
                    found.append((order, Picked(listener, route, rule, match)))
    return min(found, key=lambda f: f[0])[1] if found else None
