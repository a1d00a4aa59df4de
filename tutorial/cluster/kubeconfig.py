"""Find and merge kubeconfig files exactly as kubectl does, without importing kubernetes.

Precedence (client-go's loading rules): `--kubeconfig P` alone; else every file in
$KUBECONFIG (split on os.pathsep, empty entries ignored, missing files skipped, duplicates
once); else ~/.kube/config. Merging: the first file to set a map key (cluster, user,
context name) wins, and current-context comes from the first file that sets it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

# Map-valued sections merged by name, as client-go's Config maps are.
_SECTIONS = ("clusters", "users", "contexts")
_INNER = {"clusters": "cluster", "users": "user", "contexts": "context"}


class KubeconfigError(Exception):
    """A kubeconfig problem, worded for the learner with the next step to take."""


class NoKubeconfig(KubeconfigError):
    """No kubeconfig file to use (none found, or --kubeconfig names a missing file)."""


class MalformedKubeconfig(KubeconfigError):
    """A kubeconfig file that is not valid YAML or not shaped like a kubeconfig."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {problem}. Fix the file, or pick another with --kubeconfig.")
        self.path, self.line, self.problem = path, line, problem


class ContextNotFound(KubeconfigError):
    """The requested (or current) context is not in the merged kubeconfig."""

    def __init__(self, requested: str | None, available: list[str], files: list[str]) -> None:
        names = ", ".join(available) if available else "(none)"
        if requested:
            head = f"context was not found for specified context: {requested}"
        else:
            head = "no current context is set"
        super().__init__(
            f"{head}. Available contexts in {os.pathsep.join(files) or 'the kubeconfig'}: "
            f"{names}. Pass one with --context, or list them with `kubectl config get-contexts`."
        )
        self.requested, self.available = requested, available


@dataclass
class KubeconfigView:
    """The merged kubeconfig a kubectl invocation with the same inputs would see."""

    files: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)
    current_context: str | None = None
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when no kubeconfig file was found at all."""
        return not self.files

    @property
    def kubeconfig_arg(self) -> str | None:
        """The KUBECONFIG value that makes a subprocess see this same merged view."""
        return os.pathsep.join(self.files) if self.files else None

    def server_for(self, context: str) -> str | None:
        """The API server URL of context's cluster, or None if the cluster is not defined."""
        ctx = self.contexts.get(context) or {}
        cluster = self.clusters.get(ctx.get("cluster") or "") or {}
        return cluster.get("server")

    def merged(self) -> dict[str, Any]:
        """The merged view as a kubeconfig dict (for tools that take a config dict)."""
        def items(section: str, data: dict) -> list[dict]:
            return [{"name": n, _INNER[section]: v} for n, v in data.items()]
        return {
            "apiVersion": "v1", "kind": "Config",
            "current-context": self.current_context or "",
            "clusters": items("clusters", self.clusters),
            "users": items("users", self.users),
            "contexts": items("contexts", self.contexts),
        }


def candidate_files(explicit: str | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The files kubectl would consider, in precedence order (existing or not)."""
    env = os.environ if env is None else env
    if explicit:
        return [explicit]
    listed = env.get("KUBECONFIG", "")
    if listed:
        seen: list[str] = []
        for entry in listed.split(os.pathsep):
            if entry and entry not in seen:
                seen.append(entry)
        return seen
    home = env.get("HOME") or str(Path.home())
    return [os.path.join(home, ".kube", "config")]


def _parse(path: str) -> dict[str, Any]:
    """Read one kubeconfig file; YAML errors name the file and line."""
    import yaml

    from tutorial.lessons.safeyaml import fast_load_all

    try:
        with open(path, encoding="utf-8") as fh:
            # libyaml where provably safe: a 100-context lab kubeconfig takes 0.5 s in pure-Python YAML
            data = (fast_load_all(fh.read()) or [None])[0]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise MalformedKubeconfig(path, mark.line + 1 if mark else None,
                                  f"not valid YAML ({problem})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedKubeconfig(path, None, f"cannot be read ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MalformedKubeconfig(path, 1, "expected a mapping with clusters, users, contexts")
    return data


def _named_entries(path: str, data: dict, section: str) -> list[tuple[str, dict]]:
    """(name, body) pairs of one section, checking the shape kubectl requires."""
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise MalformedKubeconfig(path, None, f"{section}: expected a list of named entries")
    pairs = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise MalformedKubeconfig(path, None, f"{section}: every entry needs a name")
        body = entry.get(_INNER[section]) or {}
        if not isinstance(body, dict):
            raise MalformedKubeconfig(path, None,
                                      f"{section}: {entry['name']}: expected a mapping")
        pairs.append((entry["name"], body))
    return pairs


def _merge_into(view: KubeconfigView, path: str, data: dict) -> None:
    """Add one file's entries; names already set by an earlier file keep their value."""
    for section in _SECTIONS:
        target = getattr(view, section)
        for name, body in _named_entries(path, data, section):
            target.setdefault(name, body)
    current = data.get("current-context")
    if not view.current_context and isinstance(current, str) and current:
        view.current_context = current


def load_kubeconfig(explicit: str | None = None,
                    env: Mapping[str, str] | None = None) -> KubeconfigView:
    """Resolve and merge kubeconfig files as kubectl would; an empty view when none exist.

    Raises NoKubeconfig when --kubeconfig names a missing file (kubectl fails there too),
    MalformedKubeconfig for a file that does not parse.
    """
    candidates = candidate_files(explicit, env)
    if explicit and not os.path.isfile(explicit):
        raise NoKubeconfig(f"--kubeconfig {explicit}: no such file. Check the path, or leave "
                           "--kubeconfig out to use $KUBECONFIG or ~/.kube/config.")
    view = KubeconfigView(searched=candidates)
    for path in candidates:
        if not os.path.isfile(path):
            continue  # kubectl skips missing $KUBECONFIG entries silently
        _merge_into(view, path, _parse(path))
        view.files.append(os.path.abspath(path))  # stays valid if the cwd changes later
    return view


def no_kubeconfig_message(view: KubeconfigView) -> str:
    """Why there is no cluster to talk to, and what to do next."""
    looked = ", ".join(view.searched) or "~/.kube/config"
    return (f"No kubeconfig found (looked in: {looked}). Point KUBECONFIG or --kubeconfig at "
            "your cluster's kubeconfig, or use the built-in sandbox with --sandbox.")


def resolve_context(view: KubeconfigView, requested: str | None = None) -> tuple[str, str]:
    """(context name, server URL) for the requested context, else the current one."""
    if view.empty:
        raise NoKubeconfig(no_kubeconfig_message(view))
    name = requested or view.current_context
    if not name or name not in view.contexts:
        raise ContextNotFound(name, sorted(view.contexts), view.files)
    server = view.server_for(name)
    if not server:
        cluster = view.contexts[name].get("cluster")
        raise KubeconfigError(
            f"context {name!r} uses cluster {cluster!r}, which has no server defined in "
            f"{view.kubeconfig_arg}. Fix the kubeconfig or choose another --context."
        )
    return name, server
