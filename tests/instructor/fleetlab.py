"""A workshop on the sandbox for the fleet tests: `sandbox serve --clusters N` as a real subprocess,
a kubeconfig with one extra context on a closed port, and helpers that look at the clusters with
the real kubectl and the simulated helm.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tutorial.sandbox import kubeconfig as kc_writer

REPO = Path(__file__).resolve().parents[2]
ISTIO = "1.27.1"
CHARTS = "https://istio-release.storage.googleapis.com/charts"


def require_kubectl() -> str:
    binary = shutil.which("kubectl")
    if not binary:
        pytest.skip("kubectl is not installed; the fleet tests drive the real kubectl against the sandbox")
    return binary


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_HELD: list[socket.socket] = []  # bound, never listening: connections are refused, nobody can take the port


def held_closed_port() -> int:
    """A loopback port that refuses connections for the rest of the test session.

    closed_port() releases its port, so under load another sandbox may start listening on it;
    this one stays bound (without listen()), so it is refused for as long as the tests run.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return sock.getsockname()[1]


@dataclass
class Lab:
    """Running `sandbox serve` plus a kubeconfig holding its contexts (and maybe a dead one)."""

    proc: subprocess.Popen
    tmp: Path
    kubeconfig: Path
    servers: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # context -> the served cluster's bearer token
    cas: dict[str, str] = field(default_factory=dict)     # context -> its certificate (PEM)

    @property
    def contexts(self) -> list[str]:
        return list(self.servers)

    def env(self, context: str) -> dict[str, str]:
        home = self.tmp / "homes" / context
        home.mkdir(parents=True, exist_ok=True)
        return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "KUBECONFIG": str(self.kubeconfig), "HELM_REPOSITORY_CONFIG": str(home / "repositories.yaml"),
                "GATEWAY_TUTORIAL_STATE_DIR": str(self.tmp / "tools-state")}

    def kubectl(self, context: str, *args: str, input: str | None = None, check: bool = True):
        proc = subprocess.run([require_kubectl(), "--context", context, *args], input=input, text=True,
                              capture_output=True, timeout=120, env=self.env(context))
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} on {context}: {proc.stderr}")
        return proc

    def helm(self, context: str, *args: str):
        """The simulated helm, pointed at one context through a kubeconfig whose current context it is."""
        single = self.tmp / f"kubeconfig-{context}"
        kc_writer.write(single, [(context, self.servers[context], self.tokens.get(context), self.cas.get(context))])
        env = dict(self.env(context), KUBECONFIG=str(single))
        proc = subprocess.run([sys.executable, "-m", "tutorial.sandbox.simtools", "helm", *args], text=True,
                              capture_output=True, timeout=120, env=env, cwd=REPO)
        if proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} on {context}: {proc.stderr}")
        return proc

    def names(self, context: str, kind: str, namespace: str | None = None) -> set[str]:
        where = ["-n", namespace] if namespace else ["-A"] if kind not in ("ns", "crd") else []
        out = self.kubectl(context, "get", kind, *where, "-o", "json").stdout
        return {i["metadata"]["name"] for i in json.loads(out)["items"]}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.communicate(timeout=30)


def serve(tmp: Path, clusters: int, *, dead: str | None = "lab-down") -> Lab:
    """Start `gateway-tutorial sandbox serve`; returns once every cluster answers."""
    require_kubectl()
    served = tmp / "served-kubeconfig"
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / "serve-state"), "COLUMNS": "200"}
    # LoadBalancer addresses come from a 127/8 block this serve process alone holds (addresses.py),
    # so another test's sandbox (an xdist worker) never answers for these Gateways.
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", "--clusters", str(clusters),
                             "--kubeconfig-out", str(served), "--context-name", "lab"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:  # blocks until serve prints; it prints the summary once all answer
        lines.append(line)
        if "Press Ctrl-C to stop." in line:
            break
    else:
        raise AssertionError(f"sandbox serve ended early:\n{''.join(lines)}")
    config = yaml.safe_load(served.read_text())
    servers = {c["name"]: c["cluster"]["server"] for c in config["clusters"]}
    tokens = {u["name"]: u["user"]["token"] for u in config["users"]}  # sandbox serve: a token per cluster
    cas = {c["name"]: base64.b64decode(c["cluster"]["certificate-authority-data"]).decode()
           for c in config["clusters"]}  # and a certificate
    if dead:
        servers[dead] = f"http://127.0.0.1:{held_closed_port()}"
    kubeconfig = kc_writer.write(tmp / "kubeconfig", [(n, u, tokens.get(n), cas.get(n)) for n, u in servers.items()])
    return Lab(proc, tmp, kubeconfig, servers, tokens, cas)


def cli(*argv: str) -> tuple[int, str]:
    """Run `gateway-tutorial ARGV` in this process; (exit code, stdout + stderr)."""
    from tutorial.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(buf):
        code = main(list(argv))
    return code, buf.getvalue()


def install_istio_and_crds(lab: Lab, context: str) -> None:
    """What an earlier workshop or platform team left: Istio (Helm) and the Gateway API CRDs."""
    from tutorial.sandbox.bundles import gateway_api_bundle

    lab.helm(context, "repo", "add", "istio", CHARTS)
    lab.helm(context, "install", "istio-base", "istio/base", "-n", "istio-system", "--create-namespace",
             "--set", "defaultRevision=default", "--version", ISTIO)
    lab.helm(context, "install", "istiod", "istio/istiod", "-n", "istio-system", "--version", ISTIO, "--wait")
    lab.kubectl(context, "apply", "-f", str(gateway_api_bundle()))


def helm_releases(lab: Lab, context: str) -> set[str]:
    out = lab.kubectl(context, "get", "secrets", "-A", "-l", "owner=helm", "-o", "json").stdout
    return {f"{i['metadata']['namespace']}/{i['metadata']['labels']['name']}" for i in json.loads(out)["items"]}


def journal(lab: Lab, context: str) -> dict | None:
    proc = lab.kubectl(context, "get", "configmap", "-n", "kube-system", "gateway-tutorial-journal", "-o", "json",
                       check=False)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)["data"]
    return {json.loads(v)["target"]: json.loads(v) for k, v in data.items() if k.startswith("step.")}


@dataclass
class InProcessLab(Lab):
    """Like Lab, but the clusters run in this process (fast to start; for focused tests)."""

    clusters: list = field(default_factory=list)

    def stop(self) -> None:
        for cluster in self.clusters:
            cluster.stop()


def in_process(tmp: Path, count: int, *, prefix: str = "lab") -> InProcessLab:
    """`count` SandboxClusters with short delays and one kubeconfig naming them PREFIX01..."""
    from tutorial.sandbox.cluster import SandboxCluster
    from tutorial.sandbox.controllers.runtime import SandboxSettings

    require_kubectl()
    clusters = []
    for i in range(count):
        settings = SandboxSettings(pod_start_delay=0.06, image_pull_delay=0.02, lb_delay=0.02, backoff_delay=0.3)
        clusters.append(SandboxCluster(name=f"{prefix}{i + 1:02d}", port=0, settings=settings).start())
    servers = {c.name: c.url for c in clusters}
    kubeconfig = kc_writer.write(tmp / "kubeconfig", list(servers.items()))
    return InProcessLab(None, tmp, kubeconfig, servers, {c.name: c.token for c in clusters},
                        {c.name: c.cert.cert_pem for c in clusters}, clusters=clusters)
