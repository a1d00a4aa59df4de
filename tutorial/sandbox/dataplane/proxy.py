"""The simulated gateway data plane: real HTTP listeners on each programmed Gateway's address and port.

`DataPlane.sync()` serves one ThreadingHTTPServer per (address, listener port) of every Gateway
Istio has programmed, and stops those no longer wanted. The listening sockets themselves belong
to the cluster's `addresses.PortBank`: the load balancer holds them before it publishes an
address, and the servers run on them. Each request is routed against the store at that moment
by `istio.routing`, so a route change takes effect at once. A port that cannot be had never
crashes the cluster: it is recorded in `errors` (and the bank's problems, which the Gateway's
Programmed condition reports) and as an Event.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from tutorial.sandbox.dataplane import addresses
from tutorial.sandbox.istio import binding, envoy, routing
from tutorial.sandbox.istio.model import ENDPOINTS, GATEWAYS, SERVICES, World, key, meta
from tutorial.sandbox.controllers.runtime import Controller
from tutorial.sandbox.wakeloop import WakeableServer

LOG = logging.getLogger("tutorial.sandbox.dataplane.proxy")
Endpoint = tuple[str, int]
_PLANES: "weakref.WeakValueDictionary[int, DataPlane]" = weakref.WeakValueDictionary()


def sync_for(store: Any) -> None:
    """Open/close the listeners of the data plane serving `store`, if one runs (istiod calls this
    before it reports a Gateway Programmed, so the address answers as soon as it is published)."""
    plane = _PLANES.get(id(store))
    if plane is not None and plane.store is store:
        plane.sync()


def wanted_endpoints(world: World) -> dict[Endpoint, dict]:
    """(address, port) -> Gateway for every programmed, Istio-managed Gateway's HTTP listeners.

    Addresses are computed like istiod does (not read from status), so a listener is open by the
    time the Gateway reports Programmed.
    """
    out: dict[Endpoint, dict] = {}
    world.unusable = {}  # a port not had yet is still wanted: sync() keeps trying to hold it
    for gw in sorted(world.gateways, key=lambda g: (meta(g).get("creationTimestamp", ""), key(g))):
        if not binding.istio_manages(world, gw):
            continue
        for addr in routing.gateway_addresses(world, gw):
            if addr.get("type", "IPAddress") != "IPAddress":
                continue
            for lst in binding.listeners_of(gw):
                if lst.protocol in ("HTTP", "HTTPS") and not lst.protocol_error:
                    out.setdefault((addr.get("value", ""), lst.port), gw)
    return out


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    """One request: route it with the store as it is now, answer like Envoy would."""

    server_version = "istio-envoy"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    scheme = "http"
    plane: "DataPlane"
    endpoint: Endpoint

    def version_string(self) -> str:
        return "istio-envoy"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        LOG.debug("%s:%s %s", *self.endpoint, format % args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = envoy.Request(self.command, self.path, list(self.headers.items()), scheme=self.scheme,
                                port=self.endpoint[1], client=self.client_address[0], body=body)
        if not request.host:
            request.headers.append(("Host", self.endpoint[0]))
        world = World.from_store(self.plane.store, with_pods=True)
        response = envoy.handle(world, self.endpoint[0], self.endpoint[1], request)
        response.send(self)


class _BankServer(WakeableServer, ThreadingHTTPServer):
    """A server on a socket the PortBank owns: stopping it leaves the socket to the bank."""

    def server_close(self) -> None:
        """Only the loop's waker: the PortBank closes the socket when the address is given up."""
        self.close_waker()


def _serves_https(gateway: dict, port: int) -> bool:
    return any(lst.protocol == "HTTPS" for lst in binding.listeners_of(gateway) if lst.port == port)


class _TlsServer(_BankServer):
    """HTTPS: the handshake (in the request's thread) picks the certificate of the listener the SNI
    selects, read from its Secret at that moment; no valid listener for the name: handshake fails."""

    plane: "DataPlane"
    endpoint: Endpoint

    def finish_request(self, request, client_address) -> None:
        base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        base.sni_callback = self._pick
        try:
            request = base.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOG.debug("TLS handshake on %s:%s failed: %s", *self.endpoint, exc)
            return
        super().finish_request(request, client_address)

    def _pick(self, sock: ssl.SSLObject, server_name: str | None, _context: ssl.SSLContext):
        context = https_context(World.from_store(self.plane.store), self.endpoint, server_name or "")
        if context is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sock.context = context
        return None


def https_context(world: World, endpoint: Endpoint, server_name: str) -> ssl.SSLContext | None:
    """The SSLContext of the most specific valid HTTPS listener at endpoint for this SNI name."""
    from tutorial.sandbox.istio import matching, tls

    address, port = endpoint
    for gateway in routing.gateways_at(world, address, port):
        raw = {str(r.get("name")): r for r in (gateway.get("spec") or {}).get("listeners") or []}
        candidates = [lst for lst in binding.listeners_of(gateway) if lst.port == port and lst.protocol == "HTTPS"
                      and matching.host_covers(lst.hostname, server_name or "*")]
        for lst in sorted(candidates, key=lambda l: matching.specificity(l.hostname), reverse=True):
            cert = tls.listener_tls(world, gateway, raw[lst.name])
            if cert is not None and cert.ok:
                return tls.context_for(cert.cert, cert.key)
    return None


class DataPlane:
    """The set of listening sockets for one sandbox cluster's Gateways."""

    def __init__(self, store: Any, on_error: Callable[[dict, str], None] | None = None,
                 unreachable: Callable[[], bool] = lambda: False) -> None:
        self.store = store
        self.unreachable = unreachable  # fault lb-unreachable: addresses assigned, nothing answers
        self.servers: dict[Endpoint, ThreadingHTTPServer] = {}
        self.refusers: dict[Endpoint, addresses.Refuser] = {}
        self.errors: dict[Endpoint, str] = {}
        self._on_error = on_error
        self._lock = threading.RLock()
        self.bank = addresses.bank_for(store)
        self.bank.on_release.append(self._forget)
        _PLANES[id(store)] = self

    def sync(self) -> None:
        """Open listeners for programmed Gateways, close the rest; bind errors are recorded."""
        wanted = {} if self.unreachable() else wanted_endpoints(World.from_store(self.store))
        with self._lock:
            for endpoint in [e for e in self.servers if e not in wanted]:
                self._close(endpoint)
            for endpoint in [e for e in self.errors if e not in wanted]:
                del self.errors[endpoint]
            for endpoint, gw in wanted.items():
                if endpoint not in self.servers:
                    self._stop_refusing(endpoint)
                    self._open(endpoint, gw)
            self._refuse_unserved()

    def _refuse_unserved(self) -> None:
        """Held sockets nothing serves (a port of no valid listener) reset connections at once."""
        for endpoint in self.bank.held():
            if endpoint not in self.servers and endpoint not in self.refusers:
                sock = self.bank.socket(*endpoint)
                if sock is not None:
                    self.refusers[endpoint] = addresses.Refuser(sock, f"{endpoint[0]}:{endpoint[1]}")
                    self.refusers[endpoint].start()

    def _stop_refusing(self, endpoint: Endpoint) -> None:
        refuser = self.refusers.pop(endpoint, None)
        if refuser is not None:
            refuser.stop()

    def _open(self, endpoint: Endpoint, gateway: dict) -> None:
        address, port = endpoint
        if not _is_loopback(address):
            self._fail(endpoint, gateway, f"{address} is not a loopback address; the simulated "
                       "data plane only listens on 127.0.0.0/8")
            return
        problem = self.bank.hold(address, port)  # normally held already by the load balancer
        if problem:
            self._fail(endpoint, gateway, problem)
            return
        https = _serves_https(gateway, port)
        handler = type("GatewayHandler", (_Handler,), {"plane": self, "endpoint": endpoint,
                                                       "scheme": "https" if https else "http"})
        server_class = _TlsServer if https else _BankServer
        server = server_class(endpoint, handler, bind_and_activate=False)
        server.plane, server.endpoint = self, endpoint
        server.socket.close()
        server.socket = self.bank.socket(address, port)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True,
                         name=f"gateway-{address}:{port}").start()
        self.servers[endpoint] = server
        self.errors.pop(endpoint, None)
        LOG.info("gateway %s/%s listening on %s:%s", *key(gateway), address, port)

    def _fail(self, endpoint: Endpoint, gateway: dict, message: str) -> None:
        if self.errors.get(endpoint) == message:
            return
        self.errors[endpoint] = message
        LOG.warning("gateway %s/%s: %s", *key(gateway), message)
        if self._on_error:
            self._on_error(gateway, message)

    def _close(self, endpoint: Endpoint) -> None:
        server = self.servers.pop(endpoint)
        server.shutdown()
        server.server_close()

    def _forget(self, address: str, ports: list[int] | None) -> None:
        """The bank is about to close sockets of address (all, or `ports`): stop serving them first."""
        with self._lock:
            for endpoint in [e for e in self.servers if e[0] == address and (ports is None or e[1] in ports)]:
                self._close(endpoint)
            for endpoint in [e for e in self.refusers if e[0] == address and (ports is None or e[1] in ports)]:
                self._stop_refusing(endpoint)

    def stop(self) -> None:
        """Close every listener and free every held address (the cluster is stopping)."""
        with self._lock:
            for endpoint in list(self.servers):
                self._close(endpoint)
            for endpoint in list(self.refusers):
                self._stop_refusing(endpoint)
            self.errors.clear()
        self.bank.close()


class DataPlaneController(Controller):
    """Runs a DataPlane inside the controller runtime: re-syncs when Gateways or Services change."""

    name = "dataplane"
    reads_only = True  # on_event only schedules a sync
    watches = frozenset({GATEWAYS, SERVICES, ENDPOINTS})
    RETRY_SECONDS = 5.0

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.plane = DataPlane(ctx.store, on_error=self._report,
                               unreachable=lambda: ctx.faults.active("lb-unreachable") is not None)
        self._pending = False
        self._watcher: threading.Thread | None = None

    def resync(self) -> None:
        self._watch_runtime()
        self._sync()

    def _watch_runtime(self) -> None:
        """Close the listeners when the runtime thread ends, even if nobody calls close().

        resync runs on the runtime thread, so joining it from a helper thread tells us when the
        cluster stopped; sockets must not outlive their cluster (the next one wants the port).
        """
        if self._watcher is not None:
            return
        runtime_thread = threading.current_thread()
        if runtime_thread is threading.main_thread():
            return  # called directly (tests): the caller owns the lifetime

        def close_after() -> None:
            runtime_thread.join()
            self.plane.stop()
        self._watcher = threading.Thread(target=close_after, daemon=True, name="dataplane-watcher")
        self._watcher.start()

    def on_event(self, type: str, gr: tuple[str, str], obj: dict) -> None:
        if not self._pending:
            self._pending = True
            self.ctx.schedule(0, self._sync)

    def _sync(self) -> None:
        self._pending = False
        self.plane.sync()
        if self.plane.errors:
            self.ctx.schedule(self.RETRY_SECONDS, self._retry)

    def _retry(self) -> None:
        if self.plane.errors and not self._pending:
            self._sync()

    def _report(self, gateway: dict, message: str) -> None:
        self.ctx.log(f"dataplane: {meta(gateway).get('namespace')}/{meta(gateway).get('name')}: {message}")
        self.ctx.record_event(gateway, "Warning", "SandboxListenerFailed",
                              f"SIMULATED data plane: {message}", "sandbox-dataplane")

    def close(self) -> None:
        """Stop listening; the cluster calls this when it stops."""
        self.plane.stop()
