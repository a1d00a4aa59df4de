"""What every kind's `kubectl get` columns are made of: column definitions, ages, shared workload columns."""

from __future__ import annotations

import datetime


def human_duration(seconds: float) -> str:
    """Kubernetes' short duration format: 45s, 3m20s, 5h, 2d3h, 400d."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m" if s % 60 == 0 else f"{m}m{s % 60}s"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h" if m % 60 == 0 else f"{h}h{m % 60}m"
    if h < 48:
        return f"{h}h"
    if h < 192:
        return f"{h // 24}d" if h % 24 == 0 else f"{h // 24}d{h % 24}h"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    return f"{h // 24 // 365}y"


def age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())


def _col(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": type_, "format": fmt, "description": name, "priority": priority}


NAME = _col("Name", fmt="name")
AGE = _col("Age")


def _containers(o: dict) -> list:
    return (((o.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []


def _selector(o: dict) -> str:
    sel = (o.get("spec") or {}).get("selector") or {}
    labels = sel.get("matchLabels", sel) if isinstance(sel, dict) else {}
    return ",".join(f"{k}={v}" for k, v in labels.items() if isinstance(v, str)) or "<none>"


def shared_columns() -> tuple:
    """Columns and accessors every workload table uses: name, age, status, spec, images, containers, selector."""
    name = (NAME, lambda o: o["metadata"]["name"])
    age_ = (AGE, lambda o: age(o["metadata"].get("creationTimestamp")))
    st = lambda o: o.get("status") or {}  # noqa: E731
    sp = lambda o: o.get("spec") or {}  # noqa: E731
    images = (_col("Images", priority=1), lambda o: ",".join(c.get("image", "") for c in _containers(o)))
    conts = (_col("Containers", priority=1), lambda o: ",".join(c.get("name", "") for c in _containers(o)))
    sel = (_col("Selector", priority=1), _selector)
    return name, age_, st, sp, images, conts, sel
