"""Label and field selectors: parsing the query strings and matching objects against them."""

from __future__ import annotations

import re
from typing import Any

from tutorial.sandbox.storage.objects import StoreError


class Selector:
    """A parsed label or field selector: a list of (key, op, values) requirements."""

    def __init__(self, reqs: list[tuple[str, str, tuple[str, ...]]]):
        self.reqs = reqs

    def matches_labels(self, labels: dict) -> bool:
        return all(_req_matches(op, key in labels, str(labels.get(key, "")), vals)
                   for key, op, vals in self.reqs)

    def matches_object(self, obj: dict) -> bool:
        return all(_req_matches(op, True, field_value(obj, key), vals) for key, op, vals in self.reqs)


def _req_matches(op: str, present: bool, value: str, vals: tuple[str, ...]) -> bool:
    if op == "exists":
        return present
    if op == "!exists":
        return not present
    if op in ("=", "==", "in"):
        return present and value in vals
    return not present or value not in vals  # != and notin


def field_value(obj: dict, path: str) -> str:
    """The string value at a dotted path (metadata.name, status.phase); "" when absent."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


class SelectorError(StoreError):
    code, reason = 400, "BadRequest"


def parse_label_selector(text: str | None) -> Selector:
    """Parse a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a."""
    reqs = []
    for part in _split_top(text or ""):
        m = re.fullmatch(r"([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)", part)
        if m:
            vals = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.fullmatch(r"([^\s!=]+)\s*(==|!=|=)\s*([^\s,=!]*)", part)
        if m:
            reqs.append((m.group(1), m.group(2), (m.group(3),)))
        elif re.fullmatch(r"![^\s!=(),]+", part):
            reqs.append((part[1:], "!exists", ()))
        elif re.fullmatch(r"[^\s!=(),]+", part):
            reqs.append((part, "exists", ()))
        else:
            raise SelectorError(f"unable to parse requirement: {part!r} in selector {text!r}")
    return Selector(reqs)


def parse_field_selector(text: str | None) -> Selector:
    """Parse field=value, field==value, field!=value (comma-separated, all must hold)."""
    reqs = []
    for part in _split_top(text or ""):
        m = re.fullmatch(r"([^\s!=]+)\s*(==|!=|=)\s*(.*)", part)
        if not m:
            raise SelectorError(f"invalid field selector: {part!r}; use field=value or field!=value")
        reqs.append((m.group(1), m.group(2), (m.group(3).strip(),)))
    return Selector(reqs)
