"""Check latency and a full sandbox run.

1. Check latency: from the moment the sandbox makes a watched condition true to the moment a
   waiting check reports pass, against real `kubectl wait` on the same kind of change in the same
   run. Targets: ratio <= 1.0 and median <= 150 ms.
2. `gateway-tutorial --sandbox run all --yes` from an empty sandbox: wall time (target <= 15 s),
   against `kubectl version --client` as a process-start baseline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from run import Figure

GR = ("gateway.networking.k8s.io", "gatewayclasses")
SETTLE = 1.0  # let the waiter open its watch before the change


def _cluster(tmp: Path):
    from tutorial.sandbox.bundles import gateway_api_bundle
    from tutorial.sandbox.cluster import SandboxCluster

    cluster = SandboxCluster(name="bench").start()
    kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig", context="bench")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp)}
    subprocess.run(["kubectl", "apply", "-f", str(gateway_api_bundle())], env=env, check=True,
                   capture_output=True)
    return cluster, kubeconfig, env


def _new_class(cluster, name: str) -> None:
    cluster.store.create(GR, {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
                              "metadata": {"name": name}, "spec": {"controllerName": "bench.example/none"}})


def _accept(cluster, name: str) -> float:
    obj = cluster.store.get(GR, None, name)
    obj["status"] = {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                                     "message": "bench", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    t0 = time.perf_counter()
    cluster.store.update(GR, obj, subresource="status")
    return t0


def _ours(cluster, kubeconfig: Path, i: int) -> float:
    from tutorial.cluster.client import ClusterClient
    from tutorial.engine.checks import CheckContext, run_check

    name = f"ours-{i}"
    _new_class(cluster, name)
    client = ClusterClient(str(kubeconfig), "bench")
    client.resource("gateway.networking.k8s.io/v1", "GatewayClass")  # discovery is not what we time
    done: dict = {}

    def wait():
        res = run_check(CheckContext(client), "condition", {
            "api_version": "gateway.networking.k8s.io/v1", "object_kind": "GatewayClass", "name": name,
            "type": "Accepted", "status": "True"}, timeout=30)
        done["t"], done["ok"] = time.perf_counter(), res.passed

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(SETTLE)
    t0 = _accept(cluster, name)
    thread.join()
    client.close()
    assert done["ok"], "check did not pass"
    return done["t"] - t0


def _kubectl(cluster, env: dict, i: int) -> float:
    name = f"kubectl-{i}"
    _new_class(cluster, name)
    proc = subprocess.Popen(["kubectl", "wait", "--for=condition=Accepted", f"gatewayclass/{name}",
                             "--timeout=30s"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(SETTLE)
    t0 = _accept(cluster, name)
    proc.wait()
    t1 = time.perf_counter()
    assert proc.returncode == 0, proc.stderr.read()
    return t1 - t0


def _run_all(state: Path) -> float:
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(state)}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "tutorial", "--sandbox", "run", "all", "--yes"], env=env,
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"run all failed:\n{out.stdout[-3000:]}\n{out.stderr[-2000:]}")
    return elapsed


def _process_start() -> float:
    t0 = time.perf_counter()
    subprocess.run(["kubectl", "version", "--client"], capture_output=True)
    return time.perf_counter() - t0


def measure(runs: int) -> list[Figure]:
    if not shutil.which("kubectl"):
        raise SystemExit("kubectl is needed for this benchmark")
    tmp = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    cluster, kubeconfig, env = _cluster(tmp)
    ours, theirs = [], []
    try:
        for i in range(runs):
            theirs.append(_kubectl(cluster, env, i))
            ours.append(_ours(cluster, kubeconfig, i))
    finally:
        cluster.stop()
    full = [_run_all(tmp / f"state-{i}") for i in range(max(1, runs // 3))]
    base = [_process_start() for _ in range(len(full))]
    return [
        Figure("check latency (condition via watch)", ours, "kubectl wait", theirs,
               target_ratio=1.0, target_value=0.150),
        Figure("run all --yes on an empty sandbox", full, "kubectl version --client", base,
               target_value=15.0),
    ]
