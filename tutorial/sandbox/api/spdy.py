"""SPDY/3.1 framing, server side: the minimal honest subset kubectl 1.32's port-forward speaks.

kubectl tunnels SPDY inside a WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`) or, as a
fallback, speaks it on the upgraded connection itself (`Upgrade: SPDY/3.1`). This module owns
the frames (layout from the SPDY/3 draft, section 2.2 and 2.6): control frames SYN_STREAM,
SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE and DATA frames, and the
name/value header blocks, compressed with one zlib stream per direction primed with the spec's
dictionary (2.6.10.1). Flow control is not enforced: kubectl's spdystream sends no WINDOW_UPDATE.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
CANCEL, PROTOCOL_ERROR = 5, 1  # RST_STREAM status codes
MAX_DATA = 32 * 1024           # bytes per DATA frame the server sends

# The SPDY/3 header dictionary (draft 3, 2.6.10.1): length-prefixed names, then a run of raw text.
_WORDS = ("options head post put delete trace accept accept-charset accept-encoding accept-language "
          "accept-ranges age allow authorization cache-control connection content-base content-encoding "
          "content-language content-length content-location content-md5 content-range content-type date "
          "etag expect expires from host if-match if-modified-since if-none-match if-range "
          "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
          "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
          "user-agent vary via warning www-authenticate method get status 200_OK version HTTP/1.1 url "
          "public set-cookie keep-alive origin")  # 200_OK is the one entry with a space: "200 OK"
_TAIL = ("100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
         "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
         "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
         "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
         "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
         "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def _dictionary() -> bytes:
    words = [w.replace("_", " ") for w in _WORDS.split()]
    return b"".join(struct.pack("!I", len(w)) + w.encode() for w in words) + _TAIL.encode()


DICTIONARY = _dictionary()


@dataclass
class Frame:
    """One frame: `kind` is a control type, or 0 for DATA."""

    kind: int
    flags: int = 0
    stream: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""
    value: int = 0  # RST_STREAM status, PING id, GOAWAY status, WINDOW_UPDATE delta

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3."""


class Session:
    """Both directions of one connection: incoming bytes become frames, frames become bytes."""

    def __init__(self) -> None:
        self._buffer = b""
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY,
                                         zdict=DICTIONARY)

    def feed(self, data: bytes) -> list[Frame]:
        """Every complete frame in what has arrived so far (partial frames wait for more bytes)."""
        self._buffer += data
        frames = []
        while len(self._buffer) >= 8:
            length = struct.unpack("!I", self._buffer[4:8])[0] & 0xFFFFFF
            if len(self._buffer) < 8 + length:
                break
            head, body = self._buffer[:8], self._buffer[8:8 + length]
            self._buffer = self._buffer[8 + length:]
            frames.append(self._parse(head, body))
        return frames

    def _parse(self, head: bytes, body: bytes) -> Frame:
        first, second = struct.unpack("!II", head)
        flags = second >> 24
        if not first & 0x80000000:
            return Frame(0, flags, first & 0x7FFFFFFF, data=body)
        version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"SPDY version {version} (only SPDY/3 is simulated)")
        if kind == SYN_STREAM:
            return Frame(kind, flags, _stream(body), headers=self._headers(body[10:]))
        if kind in (SYN_REPLY, HEADERS):
            return Frame(kind, flags, _stream(body), headers=self._headers(body[4:]))
        if kind in (RST_STREAM, WINDOW_UPDATE, GOAWAY):
            return Frame(kind, flags, _stream(body), value=struct.unpack("!I", body[4:8])[0])
        if kind == PING:
            return Frame(kind, flags, value=struct.unpack("!I", body[:4])[0])
        return Frame(kind, flags, data=body)  # SETTINGS and anything newer: read and left alone

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        count, at, out = struct.unpack("!I", raw[:4])[0], 4, {}
        for _ in range(count):
            n = struct.unpack("!I", raw[at:at + 4])[0]
            name = raw[at + 4:at + 4 + n].decode("latin-1")
            at += 4 + n
            n = struct.unpack("!I", raw[at:at + 4])[0]
            out[name.lower()] = raw[at + 4:at + 4 + n].decode("latin-1").split("\0")[0]
            at += 4 + n
        return out

    def _block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack("!I", len(headers)) + b"".join(
            struct.pack("!I", len(k)) + k.lower().encode() + struct.pack("!I", len(v)) + v.encode()
            for k, v in headers.items())
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream: int, headers: dict[str, str] | None = None, fin: bool = False) -> bytes:
        return _control(SYN_REPLY, FLAG_FIN if fin else 0, struct.pack("!I", stream) + self._block(headers or {}))


def _stream(body: bytes) -> int:
    return struct.unpack("!I", body[:4])[0] & 0x7FFFFFFF


def _control(kind: int, flags: int, body: bytes) -> bytes:
    return struct.pack("!HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body


def data(stream: int, payload: bytes, fin: bool = False) -> bytes:
    """DATA frames carrying payload (split at MAX_DATA); an empty payload with fin half-closes."""
    chunks = [payload[i:i + MAX_DATA] for i in range(0, len(payload), MAX_DATA)] or [b""]
    out = b""
    for i, chunk in enumerate(chunks):
        flags = FLAG_FIN if fin and i == len(chunks) - 1 else 0
        out += struct.pack("!II", stream & 0x7FFFFFFF, (flags << 24) | len(chunk)) + chunk
    return out


def rst_stream(stream: int, status: int = CANCEL) -> bytes:
    return _control(RST_STREAM, 0, struct.pack("!II", stream, status))


def ping(ping_id: int) -> bytes:
    return _control(PING, 0, struct.pack("!I", ping_id))


def goaway(last_stream: int, status: int = 0) -> bytes:
    return _control(GOAWAY, 0, struct.pack("!II", last_stream, status))
