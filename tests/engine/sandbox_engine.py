"""An Engine on a fresh in-process sandbox cluster, for engine tests (import what you need)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tutorial.engine.progress import ProgressStore
from tutorial.engine.session import Engine
from tutorial.engine.target import ClusterTarget
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir
from tutorial.sandbox.cluster import SandboxCluster, pick_lb_address
from tutorial.sandbox.controllers.runtime import SandboxSettings


def require_kubectl() -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed; engine tests run the real kubectl against the sandbox")


def start_cluster(tmp: Path, *, faults=(), lb: str | None = None, workers: int | None = None) -> SandboxCluster:
    """A fresh cluster whose LoadBalancer address is a random 127.x address (ports stay free)."""
    lb = lb or f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
    cluster = SandboxCluster(name="sandbox", lb_address=pick_lb_address(lb), faults=list(faults),
                             settings=SandboxSettings(), workers=workers)
    return cluster.start()


def engine_for(cluster: SandboxCluster, tmp: Path, lessons=None) -> Engine:
    """Engine with a private HOME (kubectl's discovery cache) and state dir under tmp."""
    from tutorial.sandbox.simtools import bin_dir

    kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig", context="sandbox")
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "HELM_CONFIG_HOME": str(home / "helm"), "HELM_CACHE_HOME": str(home / "helmcache")}
    target = ClusterTarget(context="sandbox", server=cluster.url, kubeconfig=str(kubeconfig), sandbox=True,
                           extra_path=[str(bin_dir())], env=env)
    progress = ProgressStore.for_cluster("sandbox", cluster.url, state_dir=tmp / "state")
    lessons = lessons or load_lessons(lessons_dir(), assets_dir())
    return Engine(lessons, target, progress)
