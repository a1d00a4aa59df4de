"""Kubernetes' CEL libraries for IPs, CIDRs, quantities and URLs, on top of the base CEL engine.

Semantics and error words follow k8s.io/apiserver/pkg/cel/library (ip.go, cidr.go, quantity.go,
urls.go) at v0.32: `ip()` refuses zones and IPv4-mapped IPv6 addresses, `cidr().containsCIDR()` is
netip's Overlaps plus a prefix-length test, quantities compare by value (`quantity("1Gi") ==
quantity("1024Mi")`), `asInteger()` fails with "cannot convert value to integer". Values of these
types travel through the engine as small tagged maps; member calls reach these functions with the
receiver first (`ip("10.0.0.1").family()` is `family(ip("10.0.0.1"))`).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from decimal import Decimal, InvalidOperation
from typing import Any

IP, CIDR, QUANTITY, URL = "__ip__", "__cidr__", "__quantity__", "__url__"
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_SUFFIXES = {"": 1, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": 10 ** 3, "M": 10 ** 6,
             "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18, "Ki": 2 ** 10, "Mi": 2 ** 20,
             "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_INT64 = 2 ** 63


def _tag(value: Any) -> str | None:
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 and \
        next(iter(value)) in (IP, CIDR, QUANTITY, URL) else None


# ---- ip, cidr (library/ip.go, library/cidr.go) ----
def _go_parse_addr_error(raw: str) -> str:
    if re.fullmatch(r"[0-9.]+", raw) and any(len(p) > 1 and p.startswith("0") for p in raw.split(".")):
        return f'ParseAddr("{raw}"): IPv4 field has octet with leading zero'
    return f'ParseAddr("{raw}"): unable to parse IP'


def parse_ip(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """netip.ParseAddr plus Kubernetes' refusals; ValueError in the library's words."""
    try:
        addr = ipaddress.ip_address(raw)
    except ValueError:
        raise ValueError(f'IP Address "{raw}" parse error during conversion from string: '
                         f"{_go_parse_addr_error(raw)}") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
        raise ValueError(f'IP address "{raw}" with zone value is not allowed')
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        raise ValueError(f'IPv4-mapped IPv6 address "{raw}" is not allowed')
    return addr


def parse_cidr(raw: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    try:
        if "/" not in raw or "%" in raw:
            raise ValueError
        net = ipaddress.ip_interface(raw)
    except ValueError:
        address, _, bits = raw.partition("/")
        reason = "no '/'" if "/" not in raw else _go_parse_addr_error(address) if not _ok(ipaddress.ip_address, address) \
            else f'bad bits after slash: "{bits}"' if not bits.isdigit() else "prefix length out of range"
        reason = f'netip.ParsePrefix("{raw}"): {reason}'
        raise ValueError("network address parse error during conversion from string: network address parse error "
                         f"during conversion from string: {reason}") from None
    if isinstance(net, ipaddress.IPv6Interface) and net.ip.ipv4_mapped is not None:
        raise ValueError("network address parse error during conversion from string: "
                         f'IPv4-mapped IPv6 address "{raw}" is not allowed')
    return net


def _ip(value: Any) -> dict:
    if _tag(value) == CIDR:  # cidr.ip(): the address part of the prefix
        return {IP: str(parse_cidr(value[CIDR]).ip)}
    return {IP: str(parse_ip(value))}


def _addr(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(value[IP] if _tag(value) == IP else parse_ip(value))


def _global_unicast(value: dict) -> bool:
    """Go's netip.Addr.IsGlobalUnicast (private ranges count as global there)."""
    addr = _addr(value)
    if addr.version == 4 and addr == ipaddress.IPv4Address("255.255.255.255"):
        return False
    return not (addr.is_unspecified or addr.is_loopback or addr.is_multicast or _link_local_unicast(value))


def _link_local_unicast(value: dict) -> bool:
    addr = _addr(value)
    net = "169.254.0.0/16" if addr.version == 4 else "fe80::/10"
    return addr in ipaddress.ip_network(net)


def _link_local_multicast(value: dict) -> bool:
    addr = _addr(value)
    net = "224.0.0.0/24" if addr.version == 4 else "ff02::/16"
    return addr in ipaddress.ip_network(net)


def _contains_ip(cidr: dict, other: Any) -> bool:
    return _addr(other) in parse_cidr(cidr[CIDR]).network


def _contains_cidr(cidr: dict, other: Any) -> bool:
    mine = parse_cidr(cidr[CIDR]).network
    theirs = parse_cidr(other[CIDR] if _tag(other) == CIDR else other).network
    return mine.version == theirs.version and mine.overlaps(theirs) and mine.prefixlen <= theirs.prefixlen


def _masked(cidr: dict) -> dict:
    return {CIDR: str(parse_cidr(cidr[CIDR]).network)}


def _ok(parse, raw: Any) -> bool:
    try:
        parse(raw)
    except (ValueError, TypeError):
        return False
    return True


def _is_canonical(raw: str) -> bool:
    return str(parse_ip(raw)) == raw


# ---- quantity (library/quantity.go, k8s.io/apimachinery resource.ParseQuantity) ----
def parse_quantity(raw: str) -> Decimal:
    match = _QUANTITY.match(raw.strip() if raw == raw.strip() else "\0")
    if not raw or not match:
        raise ValueError("quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    number, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError("quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'") from None
    if suffix in _SUFFIXES:
        return value * _SUFFIXES[suffix]
    exp = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if not exp:
        raise ValueError("unable to parse quantity's suffix")
    return value * Decimal(10) ** int(exp.group(1))


def _quantity(raw: Any) -> dict:
    return {QUANTITY: _canon(parse_quantity(raw))}


def _canon(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _q(value: Any) -> Decimal:
    if _tag(value) == QUANTITY:
        return Decimal(value[QUANTITY])
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError("no such overload")


def _as_integer(value: dict) -> int:
    number = _q(value)
    if number != number.to_integral_value() or not -_INT64 <= number < _INT64:
        raise ValueError("cannot convert value to integer")
    return int(number)


def _compare(a: Any, b: Any) -> int:
    x, y = _q(a), _q(b)
    return (x > y) - (x < y)


# ---- url (library/urls.go: Go's url.ParseRequestURI) ----
def parse_url(raw: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(raw)
    if not (raw.startswith("/") or parts.scheme) or " " in raw:
        raise ValueError(f'URL parse error during conversion from string: parse "{raw}": invalid URI for request')
    return parts


def _url(raw: str) -> dict:
    parse_url(raw)
    return {URL: raw}


def _host(value: dict) -> str:
    return parse_url(value[URL]).netloc.rsplit("@", 1)[-1]


def _hostname(value: dict) -> str:
    host = _host(value)
    if host.startswith("["):
        return host[1:host.index("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _port(value: dict) -> str:
    host = _host(value)
    tail = host[host.index("]") + 1:] if host.startswith("[") else host
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


def _query(value: dict) -> dict:
    return {k: v for k, v in urllib.parse.parse_qs(parse_url(value[URL]).query, keep_blank_values=True).items()}


def _string(value: Any) -> str:
    tag = _tag(value)
    if tag in (IP, CIDR, URL):
        return value[tag]
    raise TypeError("no such overload")


def _add(a: dict, b: Any) -> dict:
    return {QUANTITY: _canon(_q(a) + _q(b))}


def _sub(a: dict, b: Any) -> dict:
    return {QUANTITY: _canon(_q(a) - _q(b))}


FUNCTIONS = {
    "ip": _ip, "isIP": lambda s: _ok(parse_ip, s), "family": lambda v: _addr(v).version,
    "__ip_isCanonical": _is_canonical, "isUnspecified": lambda v: _addr(v).is_unspecified,
    "isLoopback": lambda v: _addr(v).is_loopback, "isLinkLocalMulticast": _link_local_multicast,
    "isLinkLocalUnicast": _link_local_unicast, "isGlobalUnicast": _global_unicast,
    "cidr": lambda s: {CIDR: str(parse_cidr(s))}, "isCIDR": lambda s: _ok(parse_cidr, s),
    "containsIP": _contains_ip, "containsCIDR": _contains_cidr, "prefixLength": lambda c: parse_cidr(c[CIDR]).network.prefixlen,
    "masked": _masked, "string": _string,
    "quantity": _quantity, "isQuantity": lambda s: _ok(parse_quantity, s), "sign": lambda q: _compare(q, 0),
    "isGreaterThan": lambda a, b: _compare(a, b) == 1, "isLessThan": lambda a, b: _compare(a, b) == -1,
    "compareTo": _compare, "asApproximateFloat": lambda q: float(_q(q)), "asInteger": _as_integer,
    "isInteger": lambda q: _ok(_as_integer, q), "add": _add, "sub": _sub,
    "url": _url, "isURL": lambda s: _ok(parse_url, s), "getScheme": lambda u: parse_url(u[URL]).scheme,
    "getHost": _host, "getHostname": _hostname, "getPort": _port,
    "getEscapedPath": lambda u: parse_url(u[URL]).path, "getQuery": _query,
}
# namespaced function names the engine cannot parse as one identifier: rewritten before compiling
REWRITES = {"ip.isCanonical(": "__ip_isCanonical("}
