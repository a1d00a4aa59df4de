"""pods/portforward as the API server and kubelet serve it, to the programs modelled in kubelet/listeners.py.

Three ways in, one far end:
- WebSocket channels (`v4.channel.k8s.io`, what the kubernetes python client speaks): the ports
  come in the `ports` query; port i gets data channel 2i and error channel 2i+1, and the first
  frame on each carries the port number (uint16, little-endian), as the kubelet sends it.
- SPDY/3.1 tunneled in a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl 1.32's default) and
  plain SPDY after `Upgrade: SPDY/3.1` (kubectl's fallback): each local connection opens an error
  stream and a data stream carrying `port` and `requestid` headers; see spdy.py for the frames.
A port nothing listens on gets containerd's "connection refused" text on the error channel/stream.
kubectl resolves `svc/NAME` to a pod and its target port itself, so Services need nothing here.
"""

from __future__ import annotations

import queue
import struct
import threading
from typing import Callable

from tutorial.sandbox.api import spdy, websocket
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, current
from tutorial.sandbox.kubelet import listeners

PROTOCOL = "portforward.k8s.io"
TUNNEL = "SPDY/3.1+" + PROTOCOL
CHANNEL_PROTOCOLS = ("v4.channel.k8s.io",)
POLL = 1.0  # seconds between looks at whether the server is stopping
_IDLE = object()


class _Reader:
    """Blocking reads on their own thread (a timed-out socket file refuses to read again)."""

    def __init__(self, read: Callable[[], object]) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._read = read
        threading.Thread(target=self._run, daemon=True, name="portforward-reader").start()

    def _run(self) -> None:
        while True:
            item = self._read()
            self._queue.put(item)
            if item is None:
                return

    def get(self) -> object:
        """The next item, _IDLE after POLL seconds of nothing, None once the client is gone."""
        try:
            return self._queue.get(timeout=POLL)
        except queue.Empty:
            return _IDLE


def _ws_message(h: Handler):
    message = websocket.read_message(h, None)
    return None if message is None or message[0] == 0x8 else message


def serve(h: Handler, req: Request) -> None:
    """Answer one port-forward upgrade, then forward until the client or the pod goes away."""
    pod = current(h, req)
    if (pod.get("status") or {}).get("phase") != "Running":
        raise ApiError(400, "BadRequest", f"unable to upgrade connection: pod {req.name} is not running")
    if websocket.wants_upgrade(h.headers):
        offered = [p.strip() for p in (h.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        if TUNNEL in offered:
            websocket.accept(h, TUNNEL)
            return _spdy(h, pod, _WsPipe(h), h.api.store)
        chosen = next((p for p in CHANNEL_PROTOCOLS if p in offered), None)
        if chosen is None:
            raise ApiError(400, "BadRequest", f"port-forward over WebSockets needs the subprotocol {TUNNEL} or "
                                              f"{', '.join(CHANNEL_PROTOCOLS)}")
        return _channels(h, pod, req, chosen)
    if "spdy/3.1" in (h.headers.get("Upgrade") or "").lower():
        _accept_spdy(h)
        return _spdy(h, pod, _RawPipe(h), h.api.store)
    raise ApiError(400, "BadRequest", "Upgrade request required")


# --- WebSocket channels (the kubernetes python client) ---------------------------------------------

def _channels(h: Handler, pod: dict, req: Request, protocol: str) -> None:
    ports = []
    for text in (p.strip() for p in ",".join(req.query.get("ports") or []).split(",") if p.strip()):
        if not text.isdigit() or int(text) > 65535:  # the kubelet's words (portforward.parsePortForwardRequest)
            raise ApiError(400, "BadRequest", f'unable to parse "{text}" as a port: strconv.ParseUint: parsing '
                                              f'"{text}": invalid syntax')
        if int(text) == 0:
            raise ApiError(400, "BadRequest", f'port "{text}" must be > 0')
        ports.append(int(text))
    if not ports:
        raise ApiError(400, "BadRequest", 'query parameter "port" is required')
    websocket.accept(h, protocol)
    conns: dict[int, listeners.Connection] = {}
    for i, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        websocket.send(h, 2 * i, prefix)
        websocket.send(h, 2 * i + 1, prefix)
        try:
            conns[i] = listeners.connect(pod, port, h.api.store)
        except listeners.Refused as e:
            websocket.send(h, 2 * i + 1, str(e).encode())
    reader = _Reader(lambda: _ws_message(h))
    while conns and not h.api.stopping.is_set():
        message = reader.get()
        if message is None:
            break
        if message is _IDLE or not message[1]:
            continue
        index, payload = message[1][0], message[1][1:]
        conn = conns.get(index // 2) if index % 2 == 0 else None
        if conn is not None:
            answer = conn.send(payload)
            if answer:
                websocket.send(h, index, answer)
            if conn.closed:
                del conns[index // 2]
    websocket.close(h)


# --- SPDY (kubectl) --------------------------------------------------------------------------------

class _WsPipe:
    """SPDY bytes inside WebSocket binary messages."""

    def __init__(self, h: Handler) -> None:
        self.h = h

    def read(self) -> bytes | None:
        message = _ws_message(self.h)
        return None if message is None else message[1]

    def write(self, data: bytes) -> None:
        websocket.send_message(self.h, data)

    def close(self) -> None:
        websocket.close(self.h)


class _RawPipe:
    """SPDY bytes straight on the upgraded connection."""

    def __init__(self, h: Handler) -> None:
        self.h = h

    def read(self) -> bytes | None:
        try:
            self.h.connection.settimeout(None)
            return self.h.rfile.read1(65536) or None
        except (OSError, ValueError):  # closed, reset, or the session already hung up
            return None

    def write(self, data: bytes) -> None:
        self.h.wfile.write(data)
        self.h.wfile.flush()

    def close(self) -> None:
        pass


def _accept_spdy(h: Handler) -> None:
    h.send_response(101)
    h.send_header("Connection", "Upgrade")
    h.send_header("Upgrade", "SPDY/3.1")
    h.send_header("X-Stream-Protocol-Version", PROTOCOL)
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True


class _Forward:
    """One local connection kubectl forwards: its error and data streams and the pod-side connection."""

    def __init__(self, port: int) -> None:
        self.port, self.error, self.data, self.conn = port, 0, 0, None


def _spdy(h: Handler, pod: dict, pipe, store) -> None:
    session = spdy.Session()
    forwards: dict[str, _Forward] = {}
    by_stream: dict[int, _Forward] = {}
    reader = _Reader(pipe.read)
    try:
        while not h.api.stopping.is_set():
            data = reader.get()
            if data is None:
                break
            if data is _IDLE:
                continue
            out = b""
            for frame in session.feed(data):
                if frame.kind == spdy.GOAWAY:
                    return
                out += _on_frame(session, (pod, store), frame, forwards, by_stream)
            if out:
                pipe.write(out)
    except (spdy.ProtocolError, OSError):
        pass
    finally:
        pipe.close()


def _on_frame(session: spdy.Session, target: tuple, frame: spdy.Frame, forwards: dict, by_stream: dict) -> bytes:
    if frame.kind == spdy.PING:
        return spdy.ping(frame.value)
    if frame.kind == spdy.SYN_STREAM:
        return _new_stream(session, target, frame, forwards, by_stream)
    fwd = by_stream.get(frame.stream)
    if fwd is None or fwd.conn is None:
        return b""
    if frame.kind == spdy.RST_STREAM:
        by_stream.pop(frame.stream, None)
        return b"" if fwd.conn.closed else _finish(fwd, fwd.conn.shutdown())
    if frame.kind == 0 and frame.stream == fwd.data and not fwd.conn.closed:
        answer = fwd.conn.send(frame.data) if frame.data else b""
        if frame.fin:
            answer += fwd.conn.shutdown()
        return _finish(fwd, answer) if fwd.conn.closed else (spdy.data(fwd.data, answer) if answer else b"")
    return b""


def _new_stream(session: spdy.Session, target: tuple, frame: spdy.Frame, forwards: dict, by_stream: dict) -> bytes:
    out = session.syn_reply(frame.stream)
    headers = frame.headers
    if not headers.get("port", "").isdigit():
        return out + spdy.rst_stream(frame.stream, spdy.PROTOCOL_ERROR)
    fwd = forwards.setdefault(headers.get("requestid", ""), _Forward(int(headers["port"])))
    by_stream[frame.stream] = fwd
    if headers.get("streamtype") == "error":
        fwd.error = frame.stream
    elif headers.get("streamtype") == "data":
        fwd.data = frame.stream
    if fwd.error and fwd.data and fwd.conn is None:  # both streams are here: dial the pod's port
        try:
            fwd.conn = listeners.connect(target[0], fwd.port, target[1])
        except listeners.Refused as e:
            fwd.conn = listeners.Echo()
            fwd.conn.closed = True
            return out + spdy.data(fwd.error, str(e).encode(), fin=True) + spdy.data(fwd.data, b"", fin=True)
    return out


def _finish(fwd: _Forward, answer: bytes) -> bytes:
    """The program hung up: the rest of its answer, then both streams closed (no error)."""
    return spdy.data(fwd.data, answer, fin=True) + spdy.data(fwd.error, b"", fin=True)
