"""Run one job per lab cluster, a bounded number at a time, each with its own deadline.

Every cluster gets its own Engine (one ApiClient), its own progress store and a cancel event.
The deadline (--timeout) and Ctrl-C set that event: running commands end with their process
group, checks stop watching, and queued clusters never start. A failing or unreachable cluster
is a result, never an exception that stops the others.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_UNREACHABLE
from tutorial.instructor.selection import FleetCluster

PROBE_TIMEOUT = 5.0


@dataclass
class ClusterRun:
    """One cluster's job: its engine, state and outcome as the fleet sees it."""

    cluster: FleetCluster
    state: str = "queued"  # queued, running, ok, failed, unreachable, cancelled, timeout
    detail: str = ""
    engine: object | None = None
    sandbox: bool = False
    result: object | None = None
    started: float = 0.0
    ended: float = 0.0
    cancel: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    total: int | None = None  # steps this cluster's job will walk, for progress bars

    @property
    def context(self) -> str:
        return self.cluster.context

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started if self.started else 0.0


class Fleet:
    """The selected clusters, the lessons, and a scratch directory for per-cluster tool state."""

    def __init__(self, clusters: list[FleetCluster], lessons, *, variants: list[str] | None = None,
                 state_dir: Path | None = None, view=None):
        self.runs = [ClusterRun(c) for c in clusters]
        self.lessons = lessons
        self.variants = list(variants or [])
        self.state_dir = state_dir
        self._scratch = tempfile.TemporaryDirectory(prefix="gateway-tutorial-fleet-")
        self.interrupted = threading.Event()
        from tutorial.engine.session import MachineFacts

        self.machine_facts = MachineFacts()
        _preload()
        # The kubeconfig, parsed once here (not in every cluster's thread): YAML is slow.
        self._config = _parsed(view if view is not None else _view(clusters))

    def close(self) -> None:
        from tutorial.engine import journal

        for run in self.runs:
            if run.engine is not None:
                journal.release(run.engine)
                run.engine.close()
        self._scratch.cleanup()

    # -- per cluster ---------------------------------------------------------------------
    def _client(self, cluster: FleetCluster):
        """A ClusterClient; the kubeconfig is parsed once for the whole fleet, not once per cluster."""
        from tutorial.cluster.client import ClusterClient
        from tutorial.instructor.kubeapi import client_from_dict

        config, base = self._config
        if config is None:
            return ClusterClient(cluster.kubeconfig, cluster.context)
        return client_from_dict(config, base, cluster.kubeconfig, cluster.context)

    def open(self, run: ClusterRun) -> str | None:
        """Probe the cluster and build its Engine; None, or why it cannot be reached."""
        from tutorial.cluster.client import ClusterError

        try:
            client = self._client(run.cluster)
        except ClusterError as exc:
            return str(exc)
        try:
            version = json_get(client, "/version", PROBE_TIMEOUT)
        except ClusterError as exc:
            client.close()
            return f"unreachable: {exc}"
        from tutorial.engine.target import SANDBOX_COMMIT

        run.sandbox = version.get("gitCommit") == SANDBOX_COMMIT
        run.engine = self._engine(run, client)
        return None

    def _engine(self, run: ClusterRun, client):
        from tutorial.commands._common import apply_variants
        from tutorial.engine.progress import ProgressStore, check_variants
        from tutorial.engine.session import Engine
        from tutorial.engine.target import ClusterTarget

        c = run.cluster
        target = ClusterTarget(context=c.context, server=c.server, kubeconfig=self._tool_kubeconfig(run),
                               sandbox=run.sandbox, extra_path=_simtools() if run.sandbox else [], env=self._env(run))
        progress = ProgressStore.for_cluster(c.context, c.server, state_dir=self.state_dir)
        check_variants(progress, self.lessons)
        if progress.warning:  # said, never silently: both paths are in the message
            print(progress.warning, file=sys.stderr)
        apply_variants(self.lessons, progress, self.variants)
        engine = Engine(self.lessons, target, progress)
        engine.use_client(client)  # reuse the probe's connection pool
        engine.machine_facts = self.machine_facts  # `kubectl version --client` once, not per cluster
        return engine

    def _tool_kubeconfig(self, run: ClusterRun) -> str | None:
        """The kubeconfig the cluster's tools read: a copy with its context alone (instructor/toolconfig.py),
        or the original when the copy cannot be made safely."""
        from tutorial.instructor import toolconfig

        one = toolconfig.one_context(self._config[0], run.context)
        if one is None:
            return run.cluster.kubeconfig
        return toolconfig.write(one, Path(self._scratch.name) / _safe(run.context) / "kubeconfig")

    def _env(self, run: ClusterRun) -> dict[str, str]:
        """Go's collector setting for the tools (go_tool_env); for sandbox clusters also a private
        kubectl cache and Helm repository file per cluster.

        The simulated helm is not safe to run many times at once on one repositories.yaml,
        and sandbox ports are reused between runs (kubectl's discovery cache is per host:port).
        """
        env = go_tool_env()
        if not run.sandbox:
            return env
        home = Path(self._scratch.name) / _safe(run.context)
        home.mkdir(parents=True, exist_ok=True)
        return {**env, "HOME": str(home), "HELM_CONFIG_HOME": str(home / "helm"),
                "HELM_CACHE_HOME": str(home / "helmcache"), "HELM_REPOSITORY_CONFIG": str(home / "helm" / "repositories.yaml")}

    # -- all clusters ----------------------------------------------------------------------
    def run(self, job: Callable[[ClusterRun], object], *, parallel: int, timeout: float | None,
            on_change: Callable[[ClusterRun], None] | None = None, needs_engine: bool = True) -> None:
        """job(run) for every cluster, `parallel` at a time; Ctrl-C cancels all and re-raises."""
        notify = on_change or (lambda run: None)
        pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fleet")
        futures = [pool.submit(self._one, run, job, timeout, notify, needs_engine) for run in self.runs]
        try:
            # Wait in short slices: a Ctrl-C the kernel hands to a worker thread only runs its
            # Python handler when the main thread executes again, never inside a plain block.
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2)
                for future in done:
                    future.result()
        except KeyboardInterrupt:
            self.stop()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def stop(self) -> None:
        """Cancel every cluster: running commands and checks end, queued clusters do not start."""
        self.interrupted.set()
        for run in self.runs:
            run.cancel.set()

    def _one(self, run: ClusterRun, job, timeout, notify, needs_engine) -> None:
        if self.interrupted.is_set():
            run.state, run.detail = "cancelled", "not started (interrupted)"
            return notify(run)
        run.state, run.started = "running", time.monotonic()
        notify(run)
        timer = _deadline(run, timeout)
        try:
            problem = self.open(run) if needs_engine and run.engine is None else None
            if problem:
                run.state, run.detail = "unreachable", problem
            else:
                run.result = job(run)
                if run.state == "running":
                    run.state = "ok"
        except Exception as exc:  # one cluster's surprise must not stop the others
            from tutorial.cluster.client import ClusterError

            if isinstance(exc, ClusterError) and exc.unreachable:  # it stopped answering mid-run
                run.state, run.detail = "unreachable", str(exc)
            else:
                run.state, run.detail = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if timer is not None:
                timer.cancel()
            if run.timed_out and run.state not in ("ok", "unreachable"):
                run.state, run.detail = "timeout", f"gave up after {timeout:g} s ({run.detail or 'no answer'})"
            elif run.cancel.is_set() and self.interrupted.is_set() and run.state != "ok":
                run.state, run.detail = "cancelled", run.detail or "interrupted"
            run.ended = time.monotonic()
            notify(run)

    def exit_code(self) -> int:
        states = [r.state for r in self.runs]
        if states and all(s == "unreachable" for s in states):
            return EXIT_UNREACHABLE
        return EXIT_OK if all(s == "ok" for s in states) else EXIT_CHECK_FAILED


# A kubectl run lives ~0.1 s and parses the server's OpenAPI document (hundreds of KB) on every
# apply; at Go's default (GOGC=100) its collector runs several times in that short life. Measured on
# `kubectl apply -f - < namespace.yaml` against a sandbox cluster, 12 interleaved runs each:
# 148 ms of CPU at the default, 125 ms with GOGC=400 (peak memory ~+15 MB). A fleet prepare runs
# ~7 kubectl per cluster, 30 clusters at once on the instructor's machine.
GO_GC_PERCENT = "400"


def go_tool_env() -> dict[str, str]:
    """GOGC for the Go tools a fleet command runs (kubectl, helm), unless the instructor set one."""
    return {} if "GOGC" in os.environ else {"GOGC": GO_GC_PERCENT}


def _deadline(run: ClusterRun, timeout: float | None):
    if not timeout:
        return None

    def expire():
        run.timed_out = True
        run.cancel.set()
    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    timer.start()
    return timer


def _preload() -> None:
    """Import what cluster threads need, here in one thread: thirty threads importing the
    kubernetes package at once can see it half-initialised (ImportError)."""
    import kubernetes.client  # noqa: F401
    import kubernetes.config.kube_config  # noqa: F401

    import tutorial.cluster.client  # noqa: F401
    import tutorial.engine.checks  # noqa: F401
    import tutorial.engine.session  # noqa: F401


def _view(clusters: list[FleetCluster]):
    from tutorial.cluster.kubeconfig import load_kubeconfig

    return load_kubeconfig(clusters[0].kubeconfig, os.environ) if clusters else None


def _parsed(view) -> tuple[dict | None, str]:
    """(merged kubeconfig dict, directory for its relative paths); (None, '') when several files
    are merged (their relative paths have different bases: each client then reads the files)."""
    if view is None or len(view.files) != 1:
        return None, ""
    return view.merged(), os.path.dirname(os.path.abspath(view.files[0]))


def json_get(client, path: str, timeout: float) -> dict:
    import json

    resp = client._call(path, timeout=(timeout, timeout))
    return json.loads(resp.data or b"{}")


_SIMTOOLS_LOCK = threading.Lock()
_SIMTOOLS: list[str] = []


def _simtools() -> list[str]:
    """The simulated helm/istioctl directory; written once (cluster threads would race on it)."""
    from tutorial.sandbox.simtools import bin_dir

    with _SIMTOOLS_LOCK:
        if not _SIMTOOLS:
            _SIMTOOLS.append(str(bin_dir()))
        return list(_SIMTOOLS)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "cluster"


def fleet_state_dir() -> Path | None:
    value = os.environ.get("GATEWAY_TUTORIAL_STATE_DIR")
    return Path(value) if value else None
