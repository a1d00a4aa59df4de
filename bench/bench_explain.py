"""Time to explanation: for every failure-catalog scenario the sandbox reproduces, the time from
the mistake being in the cluster to its explanation being available.

The blog is built on one sandbox by the real lessons; each scenario makes its mistake with real
kubectl (or a sandbox fault), then measures
  - CLI: the step's checks (with their configured timeouts) plus the explanation, in-process as
    `gateway-tutorial check` and `explain` run them;
  - TUI: the step opened in the app built by the CLI's factory, `c` pressed through a Pilot,
    until the explanation panel shows;
and puts the blog back. Each scenario is printed beside the failing check's configured timeout
(the baseline: what a check that cannot tell settled from converging waits). Targets: median
<= 3 s, every scenario <= 10 s.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from run import Figure

GW = "gateway.networking.k8s.io"
HERE = Path(__file__).resolve().parent


def _asset(name: str) -> dict:
    from tutorial.paths import assets_dir

    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())


class Blog:
    """A sandbox with the whole blog built by the lessons, and kubectl for the mistakes."""

    def __init__(self, tmp: Path):
        from tutorial.engine.progress import ProgressStore
        from tutorial.engine.session import Engine
        from tutorial.engine.target import ClusterTarget
        from tutorial.lessons import load_lessons
        from tutorial.paths import assets_dir, lessons_dir
        from tutorial.sandbox.cluster import SandboxCluster, pick_lb_address
        from tutorial.sandbox.simtools import bin_dir

        lb = pick_lb_address(f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}")
        self.cluster = SandboxCluster(name="sandbox", port=0, lb_address=lb).start()
        self.home = tmp / "home"
        self.home.mkdir()
        self.kubeconfig = self.cluster.write_kubeconfig(tmp / "kubeconfig", context="sandbox")
        target = ClusterTarget(context="sandbox", server=self.cluster.url, kubeconfig=str(self.kubeconfig),
                               sandbox=True, extra_path=[str(bin_dir(tmp / "bin"))], env={"HOME": str(self.home)})
        self.state = tmp / "state"
        progress = ProgressStore.for_cluster("sandbox", self.cluster.url, state_dir=self.state)
        self.engine = Engine(load_lessons(lessons_dir(), assets_dir()), target, progress)
        progress.set_variant("istio", "istioctl")
        for lesson, step in self.engine.steps("..reach-the-app/browse"):
            if lesson.id != "before-you-start":
                outcome = self.engine.run_step(step, solve=True, check_timeout=60)
                assert outcome.ok, (step.target, [(r.check_id, r.observed) for r in outcome.checks])

    def kubectl(self, *args: str, input: str | None = None) -> None:
        env = {"HOME": str(self.home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "KUBECONFIG": str(self.kubeconfig)}
        subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, timeout=90, env=env)

    def apply(self, *objs: dict) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objs))

    def heal(self) -> None:
        """Put the blog back: faults off, the lessons' Gateway and route, one replica each."""
        for name in list(self.cluster.faults.active_names()) if hasattr(self.cluster.faults, "active_names") else []:
            self.cluster.faults.disable(name)
        for name in ("image-pull", "crashloop", "no-lb", "istiod-unschedulable"):
            try:
                self.cluster.faults.disable(name)
            except Exception:
                pass
        self.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "default", "--ignore-not-found", "--wait=false")
        self.apply(_asset("gateway.yaml"), _asset("httproute.yaml"))
        self.kubectl("scale", "deploy", "--all", "-n", "emojivoto", "--replicas=1")
        self.kubectl("scale", "deploy/istiod", "-n", "istio-system", "--replicas=1")
        for target in ("emojivoto/deploy", "httproute", "reach-the-app"):
            for _, step in self.engine.steps(target):
                self.engine.check_step(step, timeout=60, record=False)

    def stop(self) -> None:
        self.engine.close()
        self.cluster.stop()


def _restart(blog: Blog, deploy: str, ns: str) -> None:
    for _ in range(3):
        blog.kubectl("rollout", "restart", deploy, "-n", ns)
        time.sleep(1.1)


def _gateway(**spec) -> dict:
    gw = _asset("gateway.yaml")
    gw["spec"].update(spec)
    return gw


def _route(mutate) -> dict:
    rt = _asset("httproute.yaml")
    mutate(rt)
    return rt


def _listener_protocol(gw: dict) -> dict:
    gw["spec"]["listeners"][0]["protocol"] = "http"
    return gw


def _image_pull(blog: Blog) -> None:
    blog.cluster.faults.enable("image-pull", images=["emojivoto-web"])
    blog.kubectl("delete", "deployment", "web", "-n", "emojivoto")
    from tutorial.paths import assets_dir

    blog.kubectl("apply", "-n", "emojivoto", "-k", str(assets_dir() / "emojivoto"))


def _istiod_pending(blog: Blog) -> None:
    blog.cluster.faults.enable("istiod-unschedulable")
    blog.kubectl("scale", "deploy/istiod", "-n", "istio-system", "--replicas=0")
    blog.kubectl("wait", "--for=delete", "pod", "-l", "app=istiod", "-n", "istio-system", "--timeout=60s")
    blog.kubectl("scale", "deploy/istiod", "-n", "istio-system", "--replicas=1")


def _no_lb(blog: Blog) -> None:
    blog.cluster.faults.enable("no-lb")
    blog.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress", "--wait=true")
    blog.apply(_asset("gateway.yaml"))


def _wrong_ns(blog: Blog) -> None:
    blog.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress")
    gw = _asset("gateway.yaml")
    gw["metadata"]["namespace"] = "default"
    blog.apply(gw)


def _replace_gateway(gw: dict):
    def make(blog: Blog) -> None:
        blog.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress")
        blog.apply(gw)
    return make


def _replace_route(rt: dict):
    def make(blog: Blog) -> None:
        blog.kubectl("delete", "httproute", "emojivoto", "-n", "emojivoto")
        blog.apply(rt)
    return make


def _drop(path_fn):
    def mutate(rt):
        path_fn(rt)
    return mutate


# (scenario, step target, mistake)
SCENARIOS = [
    ("E03-image-pull", "emojivoto/deploy", _image_pull),
    ("web scaled to 0", "emojivoto/deploy", lambda b: b.kubectl("scale", "deploy/web", "-n", "emojivoto",
                                                                 "--replicas=0")),
    ("crashloop (web)", "emojivoto/deploy", lambda b: (b.cluster.faults.enable("crashloop", selector="app=web-svc"),
                                                      b.kubectl("delete", "pod", "-l", "app=web-svc", "-n",
                                                                "emojivoto"))),
    ("istiod Pending (memory)", "istio/istioctl-install", _istiod_pending),
    ("G03-gatewayclass-name-mismatch", "gateway/apply-gateway", _replace_gateway(_gateway(gatewayClassName="istio-gateway"))),
    ("G05-lb-pending-no-address", "gateway/apply-gateway", _no_lb),
    ("G10-allowedroutes-omitted", "httproute/apply-route",
     lambda b: b.apply(_gateway(listeners=[{k: v for k, v in _asset("gateway.yaml")["spec"]["listeners"][0].items()
                                            if k != "allowedRoutes"}]))),
    ("G12-gateway-wrong-namespace", "gateway/apply-gateway", _wrong_ns),
    ("lower-case listener protocol", "gateway/apply-gateway", lambda b: b.apply(_listener_protocol(_asset("gateway.yaml")))),
    ("R01-parentref-namespace-missing", "httproute/apply-route",
     _replace_route(_route(lambda r: r["spec"]["parentRefs"][0].pop("namespace")))),
    ("R03-parentref-port-mismatch", "httproute/apply-route",
     lambda b: b.apply(_route(lambda r: r["spec"]["parentRefs"][0].update(port=80)))),
    ("R04-backend-not-found", "httproute/apply-route",
     lambda b: b.apply(_route(lambda r: r["spec"]["rules"][0]["backendRefs"][0].update(name="web")))),
    ("backendRef port 8080", "httproute/apply-route",
     lambda b: b.apply(_route(lambda r: r["spec"]["rules"][0]["backendRefs"][0].update(port=8080)))),
    ("R09-hostnames-set", "reach-the-app",
     lambda b: b.apply(_route(lambda r: r["spec"].update(hostnames=["emojivoto.example.com"])))),
    ("A02-no-route-404 (route missing)", "httproute/apply-route",
     lambda b: b.kubectl("delete", "httproute", "emojivoto", "-n", "emojivoto")),
]


def _cli(blog: Blog, target: str) -> tuple[float, float, str]:
    """(seconds to the explanation, the failing check's timeout, its rule) as check+explain do it."""
    from tutorial.engine.explain import step_explanation

    steps = [s for _, s in blog.engine.steps(target)][-1:]
    t0 = time.perf_counter()
    results = blog.engine.run_checks([(s, c) for s in steps for c in s.checks])
    failing = [r for r in results if not r.passed]
    explanation = step_explanation(blog.engine, steps[0], results) if failing else None
    took = time.perf_counter() - t0
    timeout = max((c.timeout for s in steps for c in s.checks if any(r.check_id == c.id for r in failing)),
                  default=0.0)
    return took, timeout, (explanation or {}).get("rule", "(passed)")


def _tui(blog: Blog, target: str) -> float:
    """Seconds from `c` in the step screen to the explanation panel showing."""
    from tutorial.cli import build_parser
    from tutorial.commands.tui import make_app
    from tutorial.ui.widgets.step_parts import ExplanationPanel

    os.environ["GATEWAY_TUTORIAL_STATE_DIR"] = str(blog.state)
    app = make_app(build_parser().parse_args(["--kubeconfig", str(blog.kubeconfig), "--context", "sandbox"]))
    step = [s for _, s in blog.engine.steps(target)][-1]

    async def scenario() -> float:
        async with app.run_test(size=(100, 32)) as pilot:
            while app.engine is None or app.lessons is None:
                await pilot.pause(0.05)
            app.open_step(step.target)
            await pilot.pause()
            t0 = time.perf_counter()
            await pilot.press("c")
            while not app.screen.query_one(ExplanationPanel).display:
                if time.perf_counter() - t0 > 240:
                    break
                await pilot.pause(0.02)
            took = time.perf_counter() - t0
            if app.screen.busy:
                await pilot.press("x")
            return took

    return asyncio.run(scenario())


def measure(runs: int) -> list[Figure]:
    if not shutil.which("kubectl"):
        print("kubectl is not installed: skipped", flush=True)
        return []
    tmp = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    blog = Blog(tmp)
    cli, tui, timeouts = [], [], []
    try:
        print(f"{'scenario':36} {'CLI':>7} {'TUI':>7} {'timeout':>8}  rule", flush=True)
        for name, target, mistake in SCENARIOS:
            mistake(blog)
            took, timeout, rule = _cli(blog, target)
            blog.heal()
            mistake(blog)
            shown = _tui(blog, target)
            blog.heal()
            cli.append(took)
            tui.append(shown)
            timeouts.append(timeout)
            print(f"{name:36} {took:6.2f}s {shown:6.2f}s {timeout:7.0f}s  {rule}", flush=True)
    finally:
        blog.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"worst: CLI {max(cli):.2f} s, TUI {max(tui):.2f} s (target: every scenario <= 10 s: "
          f"{'meets' if max(cli + tui) <= 10 else 'MISSES'})", flush=True)
    return [Figure("time to explanation, CLI check (median over scenarios)", cli, "the checks' configured timeouts",
                   timeouts, target_value=3.0),
            Figure("time to explanation, TUI c (median over scenarios)", tui, "the checks' configured timeouts",
                   timeouts, target_value=3.0)]


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    from run import report

    report(measure(1))
