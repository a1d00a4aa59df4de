"""Kubeconfig files for sandbox clusters: one context per cluster, written atomically, mode 0600."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

SANDBOX_TOKEN = "sandbox-token"  # any bearer token is accepted; kubectl just needs one


def context_names(prefix: str, count: int) -> list[str]:
    """PREFIX01, PREFIX02, ... (two digits, more when count needs them)."""
    width = max(2, len(str(count)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, count + 1)]


def build(entries: Iterable[tuple[str, str]], current: str | None = None) -> dict:
    """A kubeconfig dict for (context name, server url) pairs; cluster and user share the name."""
    entries = list(entries)
    return {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": name, "cluster": {"server": url, "insecure-skip-tls-verify": True}}
                     for name, url in entries],
        "users": [{"name": name, "user": {"token": SANDBOX_TOKEN}} for name, _ in entries],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
                     for name, _ in entries],
        "current-context": current or (entries[0][0] if entries else ""),
    }


def write(path: Path, entries: Iterable[tuple[str, str]], current: str | None = None) -> Path:
    """Write the kubeconfig atomically (temp file + rename) with mode 0600; returns the path.

    """
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
