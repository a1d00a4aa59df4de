"""exec and attach over SPDY/3.1: the remotecommand streams of kubectl's fallback (and of kubectl < 1.30).

After `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: v4.channel.k8s.io`, the client opens one
SPDY stream per channel, named by its `streamtype` header (error, stdin, stdout, stderr, resize);
the server replies to each, waits until all the request asked for are there, then writes output
as DATA on stdout/stderr and, at the end, the v4 Status JSON on the error stream, as the kubelet's
remotecommand server does. Older protocol versions (v1-v3, before kubectl 1.5) are not simulated.
"""

from __future__ import annotations

import queue
import threading

from tutorial.sandbox.api import spdy
from tutorial.sandbox.api.apirequest import ApiError, Handler

PROTOCOL = "v4.channel.k8s.io"
CREATE_TIMEOUT = 30.0  # seconds the kubelet waits for the client's streams


def wants(h: Handler) -> bool:
    return "spdy/3.1" in (h.headers.get("Upgrade") or "").lower()


class Streams:
    """One upgraded connection: the client's streams by type, stdin as it arrives, writes back."""

    def __init__(self, h: Handler) -> None:
        offered = [p.strip() for v in h.headers.get_all("X-Stream-Protocol-Version") or [] for p in v.split(",")]
        if PROTOCOL not in offered:
            raise ApiError(400, "BadRequest", f"remotecommand over SPDY needs {PROTOCOL}; the protocols offered "
                                              f"({', '.join(offered) or 'none'}) are not simulated by the sandbox")
        self.h, self.session, self.ids = h, spdy.Session(), {}
        self.lock, self.arrived, self.gone = threading.Lock(), threading.Condition(), threading.Event()
        self.stdin: queue.Queue = queue.Queue()
        h.send_response(101)
        for name, value in (("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", PROTOCOL)):
            h.send_header(name, value)
        h.end_headers()
        h.wfile.flush()
        h.close_connection = True
        threading.Thread(target=self._read, daemon=True, name="spdy-streams").start()

    def _read(self) -> None:
        try:
            self.h.connection.settimeout(None)
            while data := self.h.rfile.read1(65536):
                for frame in self.session.feed(data):
                    if not self._on(frame):
                        return
        except (OSError, ValueError, spdy.ProtocolError):
            pass
        finally:
            self.gone.set()
            self.stdin.put(None)
            with self.arrived:
                self.arrived.notify_all()

    def _on(self, frame: spdy.Frame) -> bool:
        if frame.kind == spdy.SYN_STREAM:
            self._send(self.session.syn_reply(frame.stream))
            with self.arrived:
                self.ids[frame.headers.get("streamtype", "")] = frame.stream
                self.arrived.notify_all()
        elif frame.kind == 0 and frame.stream == self.ids.get("stdin"):
            if frame.data:
                self.stdin.put(frame.data)
            if frame.fin:
                self.stdin.put(None)
        elif frame.kind == spdy.PING:
            self._send(spdy.ping(frame.value))
        return frame.kind != spdy.GOAWAY

    def _send(self, data: bytes) -> None:
        with self.lock:
            try:
                self.h.wfile.write(data)
                self.h.wfile.flush()
            except OSError:
                self.gone.set()

    def wait_for(self, kinds: set[str]) -> bool:
        """True once the client opened every stream in kinds (False if it went or took too long)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: kinds <= self.ids.keys() or self.gone.is_set(), CREATE_TIMEOUT) \
                and kinds <= self.ids.keys()

    def writer(self, kind: str):
        def write(data: bytes) -> None:
            if data and kind in self.ids:
                self._send(spdy.data(self.ids[kind], data))
        return write

    def read_stdin(self) -> bytes | None:
        return self.stdin.get() if "stdin" in self.ids else None

    def finish(self, status: bytes | None) -> None:
        """The status on the error stream, then every stream closed from this side."""
        if status is not None:
            self.writer("error")(status)
        for stream in sorted(self.ids.values()):
            self._send(spdy.data(stream, b"", fin=True))


def expected(stdin: bool, stdout: bool, stderr: bool, tty: bool) -> set[str]:
    """The streams kubectl opens for these options (resize only with a tty; stderr never with one)."""
    wanted = {"error"}
    for kind, on in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr and not tty), ("resize", tty)):
        if on:
            wanted.add(kind)
    return wanted
