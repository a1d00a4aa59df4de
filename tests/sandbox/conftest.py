"""Shared fixture: a sandbox ApiServer on a free loopback port with a kubeconfig for real kubectl."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from tlsfix import https_connection
from tutorial.sandbox import kubeconfig as kc_writer
from tutorial.sandbox.api.resources import Registry
from tutorial.sandbox.api.server import ApiServer
from tutorial.sandbox.storage.store import Store

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: sandbox
  cluster:
    server: {url}
users:
- name: sandbox
  user:
    token: {token}
contexts:
- name: sandbox
  context:
    cluster: sandbox
    user: sandbox
current-context: sandbox
"""


@dataclasses.dataclass
class Api:
    """A running API server: .url, .kubeconfig, .store, .server and .kubectl(*args)."""

    url: str
    kubeconfig: Path
    store: Store
    server: ApiServer
    home: Path

    @property
    def ca_pem(self) -> str:
        return self.server.ca_pem

    @property
    def token(self) -> str:
        """The server's bearer token (every request needs it)."""
        return self.server.token

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def connection(self, timeout: float = 30):
        """An HTTPS connection to the server that trusts its certificate."""
        return https_connection(self.server, timeout)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        if not Path(KUBECTL).exists():
            pytest.skip("kubectl is not installed; the sandbox API tests drive the real kubectl binary")
        env = {"HOME": str(self.home), "PATH": "/usr/bin:/bin", "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run([KUBECTL, "--kubeconfig", str(self.kubeconfig), *args], input=input,
                              capture_output=True, text=True, timeout=60, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc


def start_api(tmp: Path) -> Api:
    """Start a fresh store + builtin registry + server and write a kubeconfig under tmp."""
    store = Store()
    server = ApiServer(store, Registry.builtin(), port=0).start()
    kubeconfig = tmp / "kubeconfig"
    kc_writer.write(kubeconfig, [("sandbox", server.url, server.token, server.ca_pem)])
    home = tmp / "home"
    home.mkdir(exist_ok=True)  # kubectl's discovery cache lives here, private to this server
    return Api(server.url, kubeconfig, store, server, home)


@pytest.fixture
def api(tmp_path):
    """A fresh API server per test."""
    a = start_api(tmp_path)
    yield a
    a.server.stop()


@pytest.fixture(scope="module")
def module_api(tmp_path_factory):
    """One API server shared by a module's tests (use distinct namespaces per test)."""
    a = start_api(tmp_path_factory.mktemp("api"))
    yield a
    a.server.stop()


def pytest_terminal_summary(terminalreporter):
    """Print the conformance count: cases ported (run) and passing."""
    reports = [r for key in ("passed", "failed", "error") for r in terminalreporter.stats.get(key, [])
               if getattr(r, "when", "") == "call" and "test_conformance.py::test_case[" in r.nodeid]
    if reports:
        passing = sum(1 for r in reports if r.outcome == "passed")
        terminalreporter.write_line(f"Gateway API v1.3.0 conformance (sandbox): {len(reports)} cases ported, "
                                    f"{passing} passing")
