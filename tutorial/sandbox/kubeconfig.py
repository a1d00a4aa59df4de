"""Kubeconfig files for sandbox clusters: one context per cluster, written atomically, mode 0600.

Each sandbox API server has its own random bearer token and refuses requests without it; the
kubeconfig carries it. Servers register their token by URL (in this process), so a kubeconfig
written for a URL gets that server's token without every caller passing it along.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Iterable

NO_TOKEN = "no-sandbox-server-here"  # for a URL no sandbox server of this process serves
_TOKENS: dict[str, tuple[str, str | None]] = {}  # url -> (token, CA certificate PEM)
_TOKENS_LOCK = threading.Lock()


def new_token() -> str:
    """A random bearer token (256 bits)."""
    return secrets.token_urlsafe(32)


def register(url: str, token: str, ca_pem: str | None = None) -> None:
    with _TOKENS_LOCK:
        _TOKENS[url] = (token, ca_pem)


def unregister(url: str) -> None:
    with _TOKENS_LOCK:
        _TOKENS.pop(url, None)


def token_for(url: str) -> str:
    """The token of the sandbox server at url in this process (NO_TOKEN when there is none)."""
    with _TOKENS_LOCK:
        return _TOKENS.get(url, (NO_TOKEN, None))[0]


def ca_for(url: str) -> str | None:
    """The CA certificate (PEM) of the sandbox server at url in this process, if any."""
    with _TOKENS_LOCK:
        return _TOKENS.get(url, (None, None))[1]


def token_in(path: Path, context: str | None = None) -> str | None:
    """The bearer token a kubeconfig file holds for context (default: the current one)."""
    from tutorial.lessons.safeyaml import safe_load

    try:
        data = safe_load(Path(path).read_text(encoding="utf-8")) or {}
        name = context or data.get("current-context")
        ctx = next(c["context"] for c in data.get("contexts") or [] if c.get("name") == name)
        return next(u["user"].get("token") for u in data.get("users") or [] if u.get("name") == ctx.get("user"))
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
        return None


def context_names(prefix: str, count: int) -> list[str]:
    """PREFIX01, PREFIX02, ... (two digits, more when count needs them)."""
    width = max(2, len(str(count)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def build(entries: Iterable[tuple], current: str | None = None) -> dict:
    """A kubeconfig dict for (context name, server url[, token[, CA PEM]]) entries; cluster and
    user share the name. Without a token or CA, the ones registered for the url are used."""
    cas = {e[1]: (e[3] if len(e) > 3 and e[3] else ca_for(e[1])) for e in entries}
    entries = [(e[0], e[1], e[2] if len(e) > 2 and e[2] else token_for(e[1])) for e in entries]
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": name, "cluster": _cluster(url, cas[url])} for name, url, _ in entries],
        "users": [{"name": name, "user": {"token": token}} for name, _, token in entries],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
                     for name, _, _ in entries],
        "current-context": current or (entries[0][0] if entries else ""),
    }


def _cluster(url: str, ca_pem: str | None) -> dict:
    """The server and how to trust it: its own certificate when known (verified TLS)."""
    if ca_pem:
        return {"server": url, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}
    return {"server": url, "insecure-skip-tls-verify": True}


def write(path: Path, entries: Iterable[tuple], current: str | None = None) -> Path:
    """Write the kubeconfig atomically (temp file + rename) with mode 0600 (it holds tokens)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import yaml

    text = yaml.safe_dump(build(entries, current), sort_keys=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
