"""The WebSocket framing kubectl 1.32 and the kubernetes client use for exec (RFC 6455, server side).

Only what the channel protocols need: the upgrade handshake with subprotocol choice, reading the
client's (masked) frames, and sending binary frames and a close frame. Each message starts with a
channel byte (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize, 255 close in v5).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")


def wants_upgrade(headers) -> bool:
    return "websocket" in (headers.get("Upgrade") or "").lower()


def choose_protocol(headers) -> str | None:
    offered = [p.strip() for p in (headers.get("Sec-WebSocket-Protocol") or "").split(",") if p.strip()]
    return next((p for p in PROTOCOLS if p in offered), None)


def accept(h, protocol: str) -> None:
    """Answer the upgrade: 101 Switching Protocols with the accepted key and subprotocol."""
    key = h.headers.get("Sec-WebSocket-Key", "")
    digest = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455
    h.send_response(101)
    h.send_header("Upgrade", "websocket")
    h.send_header("Connection", "Upgrade")
    h.send_header("Sec-WebSocket-Accept", digest)
    h.send_header("Sec-WebSocket-Protocol", protocol)
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True  # after the session the socket is closed, never reused for HTTP


def send(h, channel: int, data: bytes) -> None:
    """One binary frame: the channel byte, then the data (server frames are not masked)."""
    payload = bytes([channel]) + data
    h.wfile.write(_header(0x2, len(payload)) + payload)
    h.wfile.flush()


def send_message(h, payload: bytes, opcode: int = 0x2) -> None:
    """One unmasked frame with no channel byte (SPDY tunneled in a WebSocket, pongs)."""
    h.wfile.write(_header(opcode, len(payload)) + payload)
    h.wfile.flush()


def close(h, code: int = 1000) -> None:
    payload = struct.pack("!H", code)
    try:
        h.wfile.write(_header(0x8, len(payload)) + payload)
        h.wfile.flush()
    except OSError:
        pass  # the client is already gone


def _header(opcode: int, length: int) -> bytes:
    first = 0x80 | opcode
    if length < 126:
        return bytes([first, length])
    if length < 1 << 16:
        return bytes([first, 126]) + struct.pack("!H", length)
    return bytes([first, 127]) + struct.pack("!Q", length)


def read_message(h, timeout: float | None) -> tuple[int, bytes] | None:
    """(opcode, payload) of the client's next message, fragments joined; pings are answered here."""
    first = None
    while True:
        frame = _read(h, timeout)
        if frame is None:
            return None
        fin, opcode, payload = frame
        if opcode == 0x9:
            send_message(h, payload, 0xA)
            continue
        if opcode >= 0x8:
            if opcode == 0x8:
                return opcode, payload
            continue  # a pong
        if first is None:
            first = (opcode, payload)
        else:
            first = (first[0], first[1] + payload)
        if fin:
            return first


def read_frame(h, timeout: float) -> tuple[int, bytes] | None:
    """(opcode, payload) of the client's next frame; None on timeout or a closed connection."""
    frame = _read(h, timeout)
    return None if frame is None else frame[1:]


def _read(h, timeout: float | None) -> tuple[bool, int, bytes] | None:
    """One frame; a timeout ends the connection's reading for good (the socket file refuses more)."""
    conn: socket.socket = h.connection
    try:
        conn.settimeout(timeout)
        head = h.rfile.read(2)
        if len(head) < 2:
            return None
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", h.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", h.rfile.read(8))[0]
        mask = h.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = h.rfile.read(length)
        return bool(head[0] & 0x80), opcode, _unmask(data, mask)
    except (OSError, ValueError, struct.error):  # closed, reset, or the session already hung up
        return None
    finally:
        try:
            conn.settimeout(None)
        except OSError:
            pass


def _unmask(data: bytes, mask: bytes) -> bytes:
    """XOR with the 4-byte mask, a machine word at a time (uploads through `kubectl cp` are megabytes)."""
    if not data:
        return data
    key = int.from_bytes((mask * (len(data) // 4 + 1))[:len(data)], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(len(data), "big")
