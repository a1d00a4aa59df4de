"""A kubeconfig holding only one cluster's context, for the tools a fleet command runs on it.

kubectl and helm read the whole kubeconfig on every run. A workshop's file names every lab
cluster (101 contexts, ~100 KB in the bench): kubectl spent ~9 ms of its ~55 ms per run parsing
it, and a prepare runs ~14 tools per cluster. The copy names the same cluster, user and context,
word for word; where that cannot be guaranteed it is not made and the tools read the original:
relative file paths (they resolve against the original's directory) and auth-provider users
(kubectl writes refreshed tokens back into the file it read).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

_PATH_FIELDS = {"cluster": ("certificate-authority",), "user": ("client-certificate", "client-key", "tokenFile")}


def one_context(config: dict | None, context: str) -> dict | None:
    """The kubeconfig dict with only `context` (its cluster and user), or None when unsafe to copy."""
    if not config:
        return None
    ctx = _named(config.get("contexts"), context)
    inner = (ctx or {}).get("context") or {}
    cluster = _named(config.get("clusters"), inner.get("cluster"))
    user = _named(config.get("users"), inner.get("user")) if inner.get("user") else None
    if ctx is None or cluster is None or (inner.get("user") and user is None):
        return None
    if _relative_paths(cluster.get("cluster") or {}, "cluster") or (user and _unsafe_user(user.get("user") or {})):
        return None
    return {"apiVersion": "v1", "kind": "Config", "current-context": context, "preferences": {},
            "clusters": [cluster], "users": [user] if user else [], "contexts": [ctx]}


def write(config: dict, path: Path) -> str:
    """Write it as JSON (valid YAML; only the owner may read it: it holds credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(config, out)
    return str(path)


def _named(items, name) -> dict | None:
    return next((i for i in items or [] if isinstance(i, dict) and i.get("name") == name), None) if name else None


def _relative_paths(section: dict, kind: str) -> bool:
    return any(section.get(f) and not os.path.isabs(str(section[f])) for f in _PATH_FIELDS[kind])


def _unsafe_user(user: dict) -> bool:
    command = str((user.get("exec") or {}).get("command") or "")
    relative_command = os.sep in command and not os.path.isabs(command)
    return bool(user.get("auth-provider")) or relative_command or _relative_paths(user, "user")
