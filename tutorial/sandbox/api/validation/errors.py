"""The API server's words for a refused write: the Invalid message and the qualified kind."""

from __future__ import annotations

from tutorial.sandbox.storage.objects import StoreError


def qualified_kind(kind: str, group: str) -> str:
    """Kind as the API server names it in an Invalid message: Pod, Deployment.apps, HTTPRoute.gateway..."""
    return f"{kind}.{group}" if group else kind


def invalid_message(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> str:
    """`HTTPRoute.gateway.networking.k8s.io "x" is invalid: f: m` ([a, b] when there are several)."""
    parts = [f"{f}: {m}" for f, m in causes]
    detail = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return f'{qualified_kind(kind, group)} "{name}" is invalid: {detail}'


class DecodeError(StoreError):
    """400 BadRequest: the body cannot be decoded as the kind (strict decoding, wrong JSON types)."""

    code, reason = 400, "BadRequest"

    def __init__(self, kind: str, version: str, detail: str):
        super().__init__(f'{kind} in version "{version}" cannot be handled as a {kind}: {detail}')
