"""Fixtures for whole simulated clusters (store + API server + controllers + faults) and real kubectl.

Import what you need in a test module: `from cluster_fixtures import sandbox, Sandbox, start_sandbox`.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tutorial.sandbox.cluster import SandboxCluster
from tutorial.sandbox.controllers.runtime import SandboxSettings

KUBECTL = shutil.which("kubectl")
WAIT = "--timeout=30s"  # generous ceiling for kubectl wait; the sandbox takes well under a second


def require_kubectl() -> str:
    if not KUBECTL:
        pytest.skip("kubectl is not installed; these tests drive the real kubectl against the sandbox")
    return KUBECTL


def kubectl_env(home: Path, kubeconfig: Path) -> dict:
    # A private HOME keeps kubectl's discovery cache per test server (ports get reused).
    return {"HOME": str(home), "PATH": "/usr/bin:/bin:/usr/local/bin", "KUBECONFIG": str(kubeconfig)}


def run_kubectl(home: Path, kubeconfig: Path, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """Run the real kubectl; with check, a failure raises with stdout and stderr shown."""
    binary = require_kubectl()
    proc = subprocess.run([binary, *args], input=input, capture_output=True, text=True,
                          timeout=timeout, env=kubectl_env(home, kubeconfig))
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                             f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
    return proc


@dataclasses.dataclass
class Sandbox:
    """A running simulated cluster and a kubeconfig for it: .kubectl(*args), .store, .faults."""

    cluster: SandboxCluster
    kubeconfig: Path
    home: Path

    @property
    def store(self):
        return self.cluster.store

    @property
    def faults(self):
        return self.cluster.faults

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return run_kubectl(self.home, self.kubeconfig, *args, input=input, check=check)

    def wait(self, *args: str) -> subprocess.CompletedProcess:
        """`kubectl wait ARGS --timeout=30s` (a watch, no sleeping), failing the test on timeout."""
        return self.kubectl("wait", *args, WAIT)


def fast_settings() -> SandboxSettings:
    """Shorter delays than the product's (which are already short): the suite stays fast.

    Back-offs stay long (2 s, doubling) so that a pod in ImagePullBackOff or CrashLoopBackOff
    still shows it when the next kubectl command looks; errors themselves come quickly.
    """
    return SandboxSettings(pod_start_delay=0.06, image_pull_delay=0.02, lb_delay=0.02,
                           backoff_delay=2.0, error_delay=0.05)


def start_sandbox(tmp: Path, faults=None, lb_address: str = "",
                  settings: SandboxSettings | None = None, state_path: Path | None = None) -> Sandbox:
    """Start a cluster on a free port and write a kubeconfig (context "sandbox") under tmp."""
    require_kubectl()
    cluster = SandboxCluster(name="sandbox", port=0, lb_address=lb_address, faults=faults,
                             settings=settings or fast_settings(), state_path=state_path).start()
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    kubeconfig = cluster.write_kubeconfig(tmp / "kubeconfig")
    return Sandbox(cluster, kubeconfig, home)


@pytest.fixture
def sandbox(tmp_path):
    """A fresh simulated cluster per test, no faults."""
    sb = start_sandbox(tmp_path)
    yield sb
    sb.cluster.stop()


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: {name}
        image: {image}
        ports:
        - name: http
          containerPort: 8080
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  type: {type}
  selector:
    app: {name}
  ports:
  - name: http
    port: 80
    targetPort: http
"""


def deployment_yaml(name: str, ns: str = "default", replicas: int = 1, image: str = "nginx:1.27") -> str:
    return DEPLOYMENT.format(name=name, ns=ns, replicas=replicas, image=image)


def service_yaml(name: str, ns: str = "default", type: str = "ClusterIP") -> str:
    return SERVICE.format(name=name, ns=ns, type=type)


@pytest.fixture
def sandbox_factory(tmp_path):
    """make(faults=..., lb_address=..., ...) starts clusters that are stopped after the test."""
    started: list[Sandbox] = []

    def make(**kwargs) -> Sandbox:
        sb = start_sandbox(tmp_path / f"cluster{len(started)}", **kwargs)
        started.append(sb)
        return sb
    yield make
    for sb in started:
        sb.cluster.stop()


FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)")


@contextmanager
def port_forward(sb, target: str, remote: int, websockets: bool = True, namespace: str = "default"):
    """Run `kubectl port-forward TARGET 0:REMOTE`; yield (local port, pod port, process); stop it after."""
    env = kubectl_env(sb.home, sb.kubeconfig)
    if not websockets:
        env["KUBECTL_PORT_FORWARD_WEBSOCKETS"] = "false"
    proc = subprocess.Popen([require_kubectl(), "port-forward", "-n", namespace, target, f"0:{remote}"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = FORWARDING.search(line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield int(match.group(1)), int(match.group(2)), proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def http_get(port: int, path: str = "/"):
    """(status, headers, body) of a plain HTTP GET through the forwarded port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()
