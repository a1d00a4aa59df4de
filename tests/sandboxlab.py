"""The sandbox lab every end-to-end test shares: a SandboxCluster driven by the real Engine,
lessons and kubectl (explain, traffic map, settled checks, property tests).

`blog_lab(tmp)` builds the whole blog with the lessons' solve commands; tests/conftest.py makes
one per test session the `blog` fixture. Tests that break it put it back.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tutorial.engine.explain import explain
from tutorial.engine.runner import RunTarget
from tutorial.engine.target import ClusterTarget
from tutorial.paths import assets_dir

GW, RT = "gateways.gateway.networking.k8s.io", "httproute"


def fast_settings():
    from tutorial.sandbox.controllers.runtime import SandboxSettings

    return SandboxSettings(pod_start_delay=0.06, image_pull_delay=0.02, lb_delay=0.02, backoff_delay=0.3)


def lb_address() -> str:
    """A random 127/8 address this host can bind, so clusters of parallel tests never share :8080."""
    from tutorial.sandbox.cluster import pick_lb_address

    rnd = random.Random()
    return pick_lb_address(f"127.{rnd.randint(1, 254)}.{rnd.randint(1, 254)}.{rnd.randint(2, 254)}")


@dataclass
class LabTarget(ClusterTarget):
    """The sandbox as a target, with a private HOME so kubectl's discovery cache is per cluster."""

    home: str = ""

    def run_target(self) -> RunTarget:
        return RunTarget(kubeconfig=self.kubeconfig, context=self.context, extra_path=list(self.extra_path),
                         sandbox=True, env={"HOME": self.home})


class Lab:
    """A running SandboxCluster + Engine on the bundled lessons + a kubectl for learner mistakes."""

    def __init__(self, tmp: Path, faults=None):
        from tutorial.engine.progress import ProgressStore
        from tutorial.engine.session import Engine
        from tutorial.lessons import load_lessons
        from tutorial.paths import assets_dir, lessons_dir
        from tutorial.sandbox.cluster import SandboxCluster
        from tutorial.sandbox.simtools import bin_dir

        if not shutil.which("kubectl"):
            pytest.skip("kubectl is not installed; the end-to-end explain tests drive the real kubectl")
        self.cluster = SandboxCluster(name="sandbox", port=0, lb_address=lb_address(), faults=faults,
                                      settings=fast_settings()).start()
        self.home = tmp / "home"
        self.home.mkdir(exist_ok=True)
        self.kubeconfig = self.cluster.write_kubeconfig(tmp / "kubeconfig", context="sandbox")
        target = LabTarget(context="sandbox", server=self.cluster.url, kubeconfig=str(self.kubeconfig),
                           sandbox=True, extra_path=[str(bin_dir(tmp / "bin"))], home=str(self.home))
        progress = ProgressStore.for_cluster(*target.identity, state_dir=tmp / "state")
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

    def apply(self, *docs: str | dict, check: bool = True) -> subprocess.CompletedProcess:
        """kubectl apply of YAML text or object dicts (several become one multi-document stream)."""
        text = "---\n".join(d if isinstance(d, str) else yaml.safe_dump(d, sort_keys=False) for d in docs)
        return self.kubectl("apply", "-f", "-", input=text, check=check)

    def wait(self, *args: str) -> None:
        self.kubectl("wait", *args, "--timeout=30s")

    def solve(self, target: str, skip: tuple[str, ...] = ("before-you-start",)) -> None:
        """Run every step up to and including TARGET (a LESSON/STEP) with its solve commands."""
        for lesson, step in self.engine.steps(f"..{target}"):
            if lesson.id in skip:
                continue
            outcome = self.engine.run_step(step, solve=True, check_timeout=5)
            if not outcome.ok:
                raise AssertionError(f"setting up {step.target} failed: "
                                     f"{[(c.exit_code, c.stderr[-300:]) for c in outcome.commands]} "
                                     f"{[(r.check_id, r.observed) for r in outcome.checks if not r.passed]}")

    def step(self, target: str):
        return self.engine.steps(target)[-1][1]

    def explain(self, target: str, timeout: float = 0.5, only: str | None = None) -> list:
        """Check the step (short timeout: the failure is already there) and explain what fails."""
        step = self.step(target)
        results = self.engine.check_step(step, timeout=timeout, record=False)
        if only is not None:
            results = [r for r in results if r.check_id == only]
        return explain(step, results, engine=self.engine)

    def run(self, target: str):
        """Run the step's own commands (as the learner would) and explain the outcome."""
        step = self.step(target)
        outcome = self.engine.run_step(step, check_timeout=2)
        return outcome, explain(step, [], outcome=outcome, engine=self.engine)

    def stop(self) -> None:
        self.engine.close()
        runtime = self.cluster.runtime
        for controller in runtime.controllers if runtime else []:
            close = getattr(controller, "close", None)
            if close:
                close()
        self.cluster.stop()


def blog_lab(tmp: Path, faults=None) -> Lab:
    """A Lab on which the lessons have built the whole blog (istioctl variant)."""
    lab = Lab(tmp, faults=faults)
    lab.engine.progress.set_variant("istio", "istioctl")
    try:
        lab.solve("reach-the-app/browse")
    except BaseException:
        lab.stop()
        raise
    return lab


def asset(name: str) -> dict:
    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())


def text_of(view) -> str:
    return " ".join([view.title, " ".join(view.observed), view.why, view.fix, " ".join(view.fix_command or [])])
