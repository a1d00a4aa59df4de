"""`gateway-tutorial sandbox serve`: K independent simulated clusters until interrupted.

Each cluster has its own API server port and, where the OS allows, its own loopback
LoadBalancer addresses, taken from a 127/8 block this process alone holds (`addresses`), so a
workshop can hand out one per learner and two `serve` processes never answer for each other.
The kubeconfig is written only once every cluster answers, so its appearance means "ready".
"""

from __future__ import annotations

import contextlib
import shlex
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.sandbox.dataplane import addresses

from tutorial.sandbox import kubeconfig
from tutorial.sandbox.cluster import SandboxCluster, SandboxError
from tutorial.sandbox.faults import FaultSet

SIMULATED = "SIMULATED"


@dataclass
class ServeOptions:
    port: int | None = None
    clusters: int = 1
    kubeconfig_out: Path | None = None
    context_name: str = "sandbox"
    faults: list[str] = field(default_factory=list)
    env_out: Path | None = None
    state_dir: Path | None = None
    workers: int | None = None  # connections each API server serves at once; more get 429


def default_kubeconfig_path() -> Path:
    from tutorial.paths import state_dir

    return state_dir() / "sandbox" / "serve" / "kubeconfig"


def simtools_dir() -> Path | None:
    """Where the simulated helm/istioctl live (part 2); None when that part is not installed."""
    try:
        from tutorial.sandbox.simtools import bin_dir
    except ImportError:
        return None
    return Path(bin_dir())


def env_lines(kubeconfig_path: Path) -> list[str]:
    """The shell lines a learner pastes to use the sandbox from their own terminal."""
    lines = [f"export KUBECONFIG={shlex.quote(str(kubeconfig_path))}"]
    tools = simtools_dir()
    if tools is not None:
        lines.append(f'export PATH={shlex.quote(str(tools))}:"$PATH"')
    return lines


def faults_for(name: str, names: list[str], specs: list[str]) -> list[str]:
    """The fault specs for one cluster: plain specs apply to all, "CONTEXT/spec" to that one only."""
    out = []
    for spec in specs:
        prefix, _, rest = spec.partition("/")
        if rest and prefix in names:
            if prefix == name:
                out.append(rest)
        else:
            out.append(spec)
    return out


def build_clusters(opts: ServeOptions) -> list[SandboxCluster]:
    """One SandboxCluster per context name, ports consecutive from opts.port when given."""
    names = kubeconfig.context_names(opts.context_name, opts.clusters)
    per_cluster = {name: faults_for(name, names, opts.faults) for name in names}
    for specs in per_cluster.values():
        FaultSet.parse(specs)  # fail early on a bad --fault, before any port is taken
    out = []
    for i, name in enumerate(names):
        state = Path(opts.state_dir) / f"{name}.json" if opts.state_dir else None
        out.append(SandboxCluster(name=name, port=(opts.port + i) if opts.port else 0,
                                  lb_address="",  # from this process's own block
                                  state_path=state, faults=per_cluster[name], workers=opts.workers))
    return out


def start_all(clusters: list[SandboxCluster]) -> None:
    """Start every cluster; on any failure stop those already started and re-raise."""
    started = []
    try:
        for cluster in clusters:
            cluster.start()
            started.append(cluster)
    except BaseException:
        stop_all(started)
        raise


def stop_all(clusters: list[SandboxCluster]) -> None:
    """Stop the clusters in parallel (each waits for its threads and writes its state)."""
    threads = [threading.Thread(target=c.stop, name=f"stop-{c.name}") for c in clusters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def print_summary(console, clusters: list[SandboxCluster], kc: Path, lines: list[str]) -> None:
    from rich.table import Table

    table = Table(title=f"Sandbox clusters ({SIMULATED}: not real Kubernetes clusters)")
    for column in ("context", "API server", "LoadBalancer address", "faults"):
        table.add_column(column)
    for cluster in clusters:
        table.add_row(cluster.name, cluster.url, cluster.settings.lb_address or f"from {addresses.SPACE.describe()}",
                      ", ".join(cluster.faults.describe()) or "none")
    console.print(table)
    for cluster in clusters:
        for notice in cluster.notices:
            console.print(f"[yellow]{cluster.name}: {notice}[/yellow]")
    console.print(f"Kubeconfig ({len(clusters)} simulated contexts): {kc}")
    console.print("Use the sandbox from your own shell:")
    for line in lines:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    console.print("Switch faults on one live cluster: kubectl --context CONTEXT -n kube-system create "
                  "configmap sandbox-faults --from-literal=faults='no-lb image-pull'", markup=False,
                  highlight=False, soft_wrap=True)
    console.print("Press Ctrl-C to stop.")


def serve(opts: ServeOptions, console=None, stop: threading.Event | None = None,
          ready: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set); `ready` is set once the kubeconfig is written."""
    from rich.console import Console

    console = console or Console()
    stop = stop or threading.Event()
    clusters = build_clusters(opts)
    with _signals_set(stop):  # from the start: a signal during start-up still stops cleanly
        start_all(clusters)
        try:
            kc_path = Path(opts.kubeconfig_out) if opts.kubeconfig_out else default_kubeconfig_path()
            kubeconfig.write(kc_path, [(c.name, c.url, c.token, c.cert.cert_pem) for c in clusters])
            lines = env_lines(kc_path.resolve())
            if opts.env_out:
                Path(opts.env_out).write_text("\n".join(lines) + "\n", encoding="utf-8")
            print_summary(console, clusters, kc_path, lines)
            if ready is not None:
                ready.set()
            while not stop.wait(3600):
                pass
        finally:
            stop_all(clusters)
    console.print(f"Stopped {len(clusters)} simulated cluster(s).")
    return 0


@contextlib.contextmanager
def _signals_set(stop: threading.Event):
    """In the main thread, SIGINT and SIGTERM set `stop` (and nothing else) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = ["ServeOptions", "serve", "env_lines", "build_clusters", "SandboxError"]
