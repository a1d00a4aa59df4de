"""Which cluster the tutorial talks to: a kubeconfig context, or the simulated sandbox.

`choose_target` resolves the command line's cluster options without touching the network;
`probe` asks the API server whether it answers (this is where `kubernetes` is imported).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.cluster.kubeconfig import KubeconfigError, load_kubeconfig, resolve_context
from tutorial.engine.runner import RunTarget

SANDBOX_LABEL = "SANDBOX (simulated cluster)"
SANDBOX_IDENTITY = "sandbox://embedded"
SANDBOX_COMMIT = "sandbox"  # what the simulated API server reports as gitCommit in /version


class TargetError(Exception):
    """The cluster options name no usable cluster; the message says what to do."""

    def __init__(self, message: str, *, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass
class ClusterTarget:
    """A cluster commands and checks will hit, and how to reach it."""

    context: str
    server: str
    kubeconfig: str | None = None  # what KUBECONFIG must hold for kubectl to see this context
    sandbox: bool = False  # simulated: the embedded sandbox, or a `sandbox serve` cluster (probe tells)
    embedded: bool = False  # this process's own sandbox (its port changes between starts)
    extra_path: list[str] = field(default_factory=list)
    handle: object | None = None  # the embedded sandbox, kept alive while we use it
    env: dict[str, str] = field(default_factory=dict)  # extra environment for commands

    @property
    def label(self) -> str:
        if self.embedded:
            return SANDBOX_LABEL
        if self.sandbox:
            return f"{self.context} (SANDBOX: simulated cluster at {self.server})"
        return f"{self.context} ({self.server})"

    @property
    def identity(self) -> tuple[str, str]:
        """(context, server) that keys progress; the sandbox's port changes between starts."""
        return (self.context, SANDBOX_IDENTITY) if self.embedded else (self.context, self.server)

    def run_target(self) -> RunTarget:
        return RunTarget(kubeconfig=self.kubeconfig, context=self.context,
                         extra_path=list(self.extra_path), sandbox=self.sandbox, env=dict(self.env))

    def release(self) -> None:
        release = getattr(self.handle, "release", None)
        if release is not None:
            release()
            self.handle = None


def sandbox_target() -> ClusterTarget:
    """Start (or join) the embedded sandbox and describe it as a target."""
    from tutorial.sandbox.embedded import acquire_embedded

    emb = acquire_embedded()
    return ClusterTarget(context=emb.context, server=emb.url, kubeconfig=str(emb.kubeconfig),
                         sandbox=True, embedded=True, extra_path=_simtools_path(), handle=emb)


def _simtools_path() -> list[str]:
    try:
        from tutorial.sandbox.simtools import bin_dir
    except ImportError:
        return []
    return [str(bin_dir())]


def kube_target(kubeconfig: str | None, context: str | None) -> ClusterTarget:
    """The context named on the command line (or the current one), without network I/O."""
    try:
        view = load_kubeconfig(kubeconfig, os.environ)
        name, server = resolve_context(view, context)
    except KubeconfigError as exc:
        raise TargetError(str(exc)) from exc
    return ClusterTarget(context=name, server=server, kubeconfig=view.kubeconfig_arg)


def choose_target(args) -> ClusterTarget:
    """--sandbox, else --context/--kubeconfig as kubectl would resolve them."""
    if getattr(args, "sandbox", False):
        return sandbox_target()
    return kube_target(getattr(args, "kubeconfig", None), getattr(args, "context", None))


def probe(target: ClusterTarget, timeout: float = 5.0) -> str | None:
    """None when the API server answers /version, else a sentence saying why not.

    A cluster that says it is a sandbox (`sandbox serve`, reached through a kubeconfig) is
    marked simulated: it is labelled so everywhere, and its commands get the simulated helm
    and istioctl, as the embedded sandbox's do.
    """
    import json

    from tutorial.cluster.client import ClusterClient, ClusterError

    client = ClusterClient(target.kubeconfig, target.context)
    try:
        resp = client._call("/version", timeout=(timeout, timeout))
        try:
            version = json.loads(resp.data or b"{}")
        except ValueError:
            version = {}
    except ClusterError as exc:
        return f"the cluster of context {target.context} at {target.server} does not answer: {exc}"
    finally:
        client.close()
    if isinstance(version, dict) and version.get("gitCommit") == SANDBOX_COMMIT and not target.sandbox:
        target.sandbox = True
        target.extra_path = [*target.extra_path, *_simtools_path()]
    return None


def assets_path() -> Path:
    from tutorial.paths import assets_dir

    return assets_dir()
