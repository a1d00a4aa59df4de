"""A sandbox cluster with the whole blog built by the real lessons, for traffic map tests."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tutorial.paths import assets_dir

GW, RT = "gateways.gateway.networking.k8s.io", "httproute"


class MapLab:
    """A running SandboxCluster + Engine (bundled lessons) + kubectl for the learner's mistakes."""

    def __init__(self, tmp: Path, faults=()):
        from tutorial.engine.progress import ProgressStore
        from tutorial.engine.session import Engine
        from tutorial.engine.target import ClusterTarget
        from tutorial.lessons import load_lessons
        from tutorial.paths import lessons_dir
        from tutorial.sandbox.cluster import SandboxCluster, pick_lb_address
        from tutorial.sandbox.runtime import SandboxSettings
        from tutorial.sandbox.simtools import bin_dir

        if not shutil.which("kubectl"):
            pytest.skip("kubectl is not installed; the traffic map tests drive the real kubectl")
        rnd = random.Random()
        lb = pick_lb_address(f"127.{rnd.randint(1, 254)}.{rnd.randint(1, 254)}.{rnd.randint(2, 254)}")
        settings = SandboxSettings(pod_start_delay=0.06, image_pull_delay=0.02, lb_delay=0.02, backoff_delay=0.3)
        self.cluster = SandboxCluster(name="sandbox", port=0, lb_address=lb, faults=list(faults),
                                      settings=settings).start()
        self.home = tmp / "home"
        self.home.mkdir(exist_ok=True)
        self.kubeconfig = self.cluster.write_kubeconfig(tmp / "kubeconfig", context="sandbox")
        env = {"HOME": str(self.home)}
        target = ClusterTarget(context="sandbox", server=self.cluster.url, kubeconfig=str(self.kubeconfig),
                               sandbox=True, extra_path=[str(bin_dir(tmp / "bin"))], env=env)
        progress = ProgressStore.for_cluster("sandbox", self.cluster.url, state_dir=tmp / "state")
        self.engine = Engine(load_lessons(lessons_dir(), assets_dir()), target, progress)

    @property
    def faults(self):
        return self.cluster.faults

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {"HOME": str(self.home), "PATH": "/usr/bin:/bin:/usr/local/bin", "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, timeout=60, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def apply(self, *objs: dict) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objs, sort_keys=False))

    def wait(self, *args: str) -> None:
        self.kubectl("wait", *args, "--timeout=30s")

    def solve(self, target: str) -> None:
        """Run every step up to TARGET with its solve commands (before-you-start only observes)."""
        for lesson, step in self.engine.steps(f"..{target}"):
            if lesson.id == "before-you-start":
                continue
            outcome = self.engine.run_step(step, solve=True, check_timeout=10)
            if not outcome.ok:
                raise AssertionError(f"setting up {step.target} failed: "
                                     f"{[(c.exit_code, c.stderr[-300:]) for c in outcome.commands]} "
                                     f"{[(r.check_id, r.observed) for r in outcome.checks if not r.passed]}")

    def stop(self) -> None:
        self.engine.close()
        self.cluster.stop()


def asset(name: str) -> dict:
    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())
