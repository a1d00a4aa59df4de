"""One simulated cluster: store + API server + controller runtime + faults (+ on-disk state).

`SandboxCluster` is the in-process API the TUI, `sandbox serve` and the tests use:

    cluster = SandboxCluster(name="sandbox", port=0, faults=["no-lb"])
    cluster.start(); cluster.url; cluster.write_kubeconfig(path); cluster.stop()
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterable

from tutorial.sandbox import kubeconfig
from tutorial.sandbox.faults import FaultSet
from tutorial.sandbox.controllers.runtime import ControllerRuntime, SandboxSettings

LOG = logging.getLogger("tutorial.sandbox.cluster")


def pick_lb_address(candidate: str) -> str:
    """candidate when this OS lets us bind it (Linux: all of 127/8), else 127.0.0.1 (macOS)."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((candidate, 0))
    except OSError:
        return "127.0.0.1"
    return candidate


class SandboxError(RuntimeError):
    """The sandbox could not start or be reached; the message says what to do."""


class SandboxCluster:
    """A complete simulated cluster on one loopback port."""

    def __init__(self, name: str = "sandbox", host: str = "127.0.0.1", port: int = 0,
                 lb_address: str = "", state_path: Path | None = None,
                 settings: SandboxSettings | None = None,
                 faults: FaultSet | Iterable[str] | None = None,
                 controllers: list[type] | None = None, token: str | None = None,
                 workers: int | None = None) -> None:
        from tutorial.sandbox.api.resources import Registry
        from tutorial.sandbox.storage.store import Store

        from tutorial.sandbox.kubeconfig import new_token

        self.name = name
        self.host = host
        self.token = token or new_token()  # the API server's bearer token; kept across its restarts
        self._cert = None
        # A copy: callers may share one settings object between clusters.
        self.settings = dataclasses.replace(settings or SandboxSettings(), cluster_name=name,
                                            lb_address=lb_address)
        self.faults = faults if isinstance(faults, FaultSet) else FaultSet.parse(faults)
        self.store = Store()
        self.registry = Registry.builtin()
        self.state_path = Path(state_path) if state_path else None
        self.persister = None
        self.notices: list[str] = []  # messages for a person (e.g. a corrupt state file moved aside)
        self._port = port
        self._controllers = controllers
        self.workers = workers  # connections served at once (None: the server's MAX_WORKERS); more get 429
        self.server = None
        self.runtime: ControllerRuntime | None = None
        self._lock = threading.Lock()
        self._unsubscribe_faults = None

    # ---- lifecycle ----
    def start(self) -> "SandboxCluster":
        """Load state, start the API server and controllers; returns once /readyz answers."""
        from tutorial.sandbox.controllers import default_controllers

        if self.state_path is not None:
            self._load_state()
        self._start_server()
        controllers = self._controllers if self._controllers is not None else default_controllers()
        self.runtime = ControllerRuntime(self.store, self.faults, self.settings, controllers,
                                         registry=self.registry)
        self.runtime.start()
        self._unsubscribe_faults = self.faults.subscribe(self._faults_changed)
        self._faults_changed()
        if not self.faults.unreachable():
            self.wait_ready()
        return self

    def stop(self) -> None:
        """Stop controllers and server, then write the state one last time."""
        if self._unsubscribe_faults:
            self._unsubscribe_faults()
            self._unsubscribe_faults = None
        if self.runtime is not None:
            self.runtime.stop()
            self.runtime = None
        self._stop_server()
        if self.persister is not None:
            self.persister.stop()
            self.persister = None

    def __enter__(self) -> "SandboxCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self._port}"

    @property
    def cert(self):
        """The API server's TLS certificate, made once and kept across its restarts (faults)."""
        if self._cert is None:
            from tutorial.sandbox.tlscert import make_cert

            self._cert = make_cert(self.host)
        return self._cert

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Block until GET /readyz answers 200 (the server thread is up)."""
        try:
            request = urllib.request.Request(f"{self.url}/readyz", headers={"Authorization": f"Bearer {self.token}"})
            with urllib.request.urlopen(request, timeout=timeout, context=self.cert.client_context()) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(f"the sandbox API server at {self.url} does not answer ({exc}); "
                               "check that nothing else uses the port and try again") from exc
        raise SandboxError(f"the sandbox API server at {self.url} is not ready")

    def write_kubeconfig(self, path: Path, context: str | None = None) -> Path:
        """A kubeconfig with one context (default: the cluster name) for this cluster."""
        return kubeconfig.write(Path(path), [(context or self.name, self.url, self.token, self.cert.cert_pem)])

    # ---- internals ----
    def _load_state(self) -> None:
        from tutorial.sandbox.storage.persist import Persister

        self.persister = Persister(self.store, self.state_path)
        notice = self.persister.load()
        if notice:
            self.notices.append(str(notice))
            LOG.warning("%s", notice)
        self.persister.start()

    def _start_server(self) -> None:
        from tutorial.sandbox.api.server import MAX_WORKERS, ApiServer

        with self._lock:
            if self.server is not None:
                return
            try:
                server = ApiServer(self.store, self.registry, host=self.host, port=self._port,
                                   faults=self.faults, token=self.token, cert=self.cert,
                                   workers=self.workers or MAX_WORKERS).start()
            except OSError as exc:
                raise SandboxError(f"cannot listen on {self.host}:{self._port} ({exc.strerror}); "
                                   "choose another port with --port or stop what uses it") from exc
            self.server = server
            self._port = server.port

    def _stop_server(self) -> None:
        with self._lock:
            server, self.server = self.server, None
        if server is not None:
            server.stop()

    def _faults_changed(self) -> None:
        """api-unreachable closes the listening socket (connection refused); off again reopens it."""
        if self.runtime is None:
            return
        if self.faults.unreachable():
            self._stop_server()
            return
        try:
            self._start_server()
        except SandboxError as exc:  # the port was taken meanwhile: say so, keep the rest running
            self.notices.append(str(exc))
            LOG.error("%s", exc)
