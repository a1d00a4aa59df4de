"""The sandbox API server: HTTPS on loopback that real kubectl and the kubernetes client accept.

Built on the standard library's ThreadingHTTPServer: kubectl and client-go only need HTTP/1.1
(keep-alive, chunked watch streams), so no extra dependency is worth it. One daemon thread per
connection, at most MAX_WORKERS of them: a connection beyond that gets 429 with Retry-After (as
a real API server's max-requests-inflight does) instead of another thread. Every request needs
the cluster's bearer token (401 otherwise); every answer that is not a success is a Kubernetes
Status. This module holds the server's lifecycle and its connections; one request is handled in
handler.py, the REST verbs are in rest.py and rest_write.py, watch streams in watchstream.py.
Nothing else in the API layer imports this module.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import ThreadingHTTPServer

from tutorial.sandbox.api import kinds
from tutorial.sandbox.api.admission import DEFAULT as DEFAULT_ADMISSION, Admission
from tutorial.sandbox.api.handler import IDLE_TIMEOUT, READ_TIMEOUT, Handler
from tutorial.sandbox.api.resources import Registry, attach_crd_sync
from tutorial.sandbox.api.validation import policystatus
from tutorial.sandbox.api.watchstream import BOOKMARK_INTERVAL
from tutorial.sandbox.storage.objects import NAMESPACES, StoreError
from tutorial.sandbox.storage.store import Store
from tutorial.sandbox.wakeloop import WakeableServer

log = logging.getLogger(__name__)
MAX_WORKERS = 64       # connections served at once (watches included); more get 429
OVERLOADED = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": "Too many requests, please try again later.", "reason": "TooManyRequests",
                         "details": {"retryAfterSeconds": 1}, "code": 429}).encode()


class _HTTPServer(WakeableServer, ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many kubectl processes may connect at once

    def __init__(self, *args, workers: int = MAX_WORKERS, tls=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(workers)
        self.refusers = threading.BoundedSemaphore(4)  # threads that answer 429 (a TLS handshake each)
        self.refused = 0  # connections answered 429 because every worker was busy
        self.tls = tls    # ssl.SSLContext, or None for plain HTTP

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:  # the handshake happens in the connection's own thread, not here
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def process_request(self, request, client_address) -> None:
        """A worker thread for the connection, or a 429 when all MAX_WORKERS are busy."""
        if not self.slots.acquire(blocking=False):
            self.refused += 1
            if not self.refusers.acquire(blocking=False):
                return self.shutdown_request(request)  # even the refusals are busy: hang up
            threading.Thread(target=self._overloaded, args=(request,), daemon=True).start()
            return
        thread = threading.Thread(target=self._work, args=(request, client_address), daemon=True)
        thread.start()

    def _work(self, request, client_address) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _overloaded(self, request) -> None:
        head = (b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(OVERLOADED))
        try:
            request.settimeout(1.0)
            if self.tls is not None:
                request.do_handshake()
            try:
                request.recv(65536)  # what the client already sent, so closing does not reset the answer
            except OSError:
                pass
            request.sendall(head + OVERLOADED)
        except OSError:
            pass
        finally:
            self.shutdown_request(request)
            self.refusers.release()

    def handle_error(self, request, client_address) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class ApiServer:
    """A loopback Kubernetes API server over a Store; start() binds, url tells where."""

    def __init__(self, store: Store, registry: Registry, host: str = "127.0.0.1", port: int = 0,
                 faults=None, admission: Admission | None = None, token: str | None = None,
                 workers: int = MAX_WORKERS, cert=None, idle_timeout: float = IDLE_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT):
        from tutorial.sandbox.kubeconfig import new_token

        self.store, self.registry, self.faults = store, registry, faults
        self.token = token or new_token()  # every request must carry it (Authorization: Bearer)
        self.workers, self.idle_timeout, self.read_timeout = workers, idle_timeout, read_timeout
        self._cert = cert  # tlscert.ServerCert; made at start() when not given
        self.admission = admission or DEFAULT_ADMISSION
        self.host, self._port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._unsync = None
        self.stopping = threading.Event()
        self.bookmark_interval = BOOKMARK_INTERVAL
        self._connections: set = set()
        self._conn_lock = threading.Lock()
        self.open_watches = 0  # streams being served now; watch_changed notifies on every change
        self.watch_changed = threading.Condition()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    @property
    def refused(self) -> int:
        """Connections answered 429 because all `workers` were busy (since start)."""
        return self._httpd.refused if self._httpd else 0

    @property
    def cert(self):
        """The server's TLS certificate (tlscert.ServerCert): clients trust it as their CA."""
        if self._cert is None:
            from tutorial.sandbox.tlscert import make_cert

            self._cert = make_cert(self.host)
        return self._cert

    @property
    def ca_pem(self) -> str:
        return self.cert.cert_pem

    def start(self) -> "ApiServer":
        unsync_crds, unsync_policies = attach_crd_sync(self.store, self.registry), policystatus.attach(self.store)
        self._unsync = lambda: (unsync_crds(), unsync_policies())
        ensure_system_namespaces(self.store)
        self.stopping.clear()
        handler = type("BoundHandler", (Handler,), {"api": self, "timeout": self.idle_timeout})
        self._httpd = _HTTPServer((self.host, self._port), handler, workers=self.workers,
                                  tls=self.cert.server_context())
        from tutorial.sandbox.kubeconfig import register

        register(self.url, self.token, self.ca_pem)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"sandbox-api-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (clients see the server go away)."""
        self.stopping.set()
        if self._httpd:
            from tutorial.sandbox.kubeconfig import unregister

            unregister(self.url)
            self._httpd.shutdown()
            self._httpd.server_close()
        with self._conn_lock:
            conns, self._connections = list(self._connections), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client
        if self._unsync:
            self._unsync()
        if self._thread:
            self._thread.join(5)


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def ensure_system_namespaces(store: Store) -> None:
    """Create the namespaces every Kubernetes API server creates for itself, when missing."""
    rt = Registry.builtin().by_gr(NAMESPACES)
    for name in SYSTEM_NAMESPACES:
        if store.get(NAMESPACES, None, name) is None:
            obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            kinds.builtin_defaults(rt, obj)
            try:
                store.create(NAMESPACES, obj)
            except StoreError:
                pass  # created concurrently

