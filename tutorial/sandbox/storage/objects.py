"""What the store and everything above it share: resource keys, store errors, JSON object helpers.

GR names a resource as (group, plural); each StoreError carries the HTTP code and Kubernetes
reason its Status answers with; copy_json copies the plain JSON data objects are made of.
"""

from __future__ import annotations

import datetime
from typing import Any

GR = tuple[str, str]
NAMESPACES: GR = ("", "namespaces")


class StoreError(Exception):
    """Base of store errors; carries the HTTP code and Kubernetes reason for a Status."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(StoreError):
    code, reason = 404, "NotFound"


class AlreadyExists(StoreError):
    code, reason = 409, "AlreadyExists"


class Conflict(StoreError):
    code, reason = 409, "Conflict"


class Gone(StoreError):
    code, reason = 410, "Expired"


class Invalid(StoreError):
    """422 with field causes: a list of (field path, message)."""

    code, reason = 422, "Invalid"

    def __init__(self, causes: list[tuple[str, str]], message: str | None = None, name: str = ""):
        self.causes, self.name = list(causes), name
        text = "; ".join(f"{f}: {m}" for f, m in self.causes)
        super().__init__(message or f"the object is invalid: {text}")


def now_iso() -> str:
    """Current UTC time as Kubernetes prints it (RFC 3339, seconds, Z)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_json(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dicts and lists; leaves are shared, being immutable).

    The hottest function of a busy sandbox: it recurses only into containers and never calls
    itself for a leaf; plain dicts, lists and strings are recognised by type alone (subclasses
    still go through isinstance). Unlike marshal or pickle round trips it never keeps two paths
    to one shared list.
    """
    if type(value) is dict or (type(value) is not list and isinstance(value, dict)):
        out = {}
        for k, v in value.items():
            t = type(v)
            out[k] = copy_json(v) if (t is dict or t is list or (t is not str and _container(v))) else v
        return out
    if isinstance(value, list):
        out_list = []
        for v in value:
            t = type(v)
            out_list.append(copy_json(v) if (t is dict or t is list or (t is not str and _container(v))) else v)
        return out_list
    return value


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list))



def resource_label(gr: GR) -> str:
    """The name Kubernetes uses in messages: "pods", "deployments.apps"."""
    group, plural = gr
    return f"{plural}.{group}" if group else plural
