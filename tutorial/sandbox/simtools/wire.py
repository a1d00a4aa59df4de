"""One kept-alive HTTP/1.1 connection for the simulated tools (socket and ssl only).

The simulated helm and istioctl are new Python processes on every run (a fleet prepare starts five
per cluster), so what they import is paid each time. `http.client` brings the `email` package
with it, ~12 ms of CPU per start on the bench machine; the tools need none of it: requests with a
JSON body, and answers with a Content-Length (or chunked, or read to the close).
"""

from __future__ import annotations

import socket

MAX_LINE = 65536
MAX_HEADERS = 100


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x as expected."""


class RemoteDisconnected(ConnectionResetError):
    """The server closed the connection without answering (a kept connection it had closed)."""


class Connection:
    """request() -> (status, reason, body, will_close); reopens itself after close()."""

    def __init__(self, host: str, port: int | None, timeout: float, context=None):
        self.host, self.timeout, self.context = host, timeout, context
        self.port = port or (443 if context is not None else 80)
        self.sock = None
        self._file = None

    def _open(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock, self._file = sock, sock.makefile("rb")

    def close(self) -> None:
        file, sock, self._file, self.sock = self._file, self.sock, None, None
        for thing in (file, sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass

    def request(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, str, bytes, bool]:
        if self.sock is None:
            self._open()
        host = self.host if ":" not in self.host else f"[{self.host}]"
        default = 443 if self.context is not None else 80
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}" + (f":{self.port}" if self.port != default else ""),
                 "Accept-Encoding: identity"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        return self._response(method)

    def _response(self, method: str) -> tuple[int, str, bytes, bool]:
        line = self._line()
        if not line:
            raise RemoteDisconnected("Remote end closed connection without response")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"bad status line: {line[:100]!r}")
        status, fields = int(code), self._headers()
        connection = fields.get("connection", "").lower()
        will_close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, reason, b"", will_close
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return status, reason, self._chunked(), will_close
        if "content-length" in fields:
            try:
                length = int(fields["content-length"])
            except ValueError:
                raise ProtocolError(f"bad Content-Length: {fields['content-length']!r}") from None
            return status, reason, self._exactly(length), will_close
        return status, reason, self._file.read(), True  # no length: the body ends with the connection

    def _line(self) -> bytes:
        line = self._file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise ProtocolError("header line too long")
        return line

    def _headers(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self._line()
            if line in (b"\r\n", b"\n", b""):
                return fields
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        raise ProtocolError("too many headers")

    def _exactly(self, length: int) -> bytes:
        data = self._file.read(length)
        if len(data) < length:
            raise RemoteDisconnected(f"answer cut short ({len(data)} of {length} bytes)")
        return data

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size: {size_line[:20]!r}") from None
            if size == 0:
                self._headers()  # trailers, then the blank line
                return b"".join(parts)
            parts.append(self._exactly(size))
            self._line()  # the CRLF after each chunk
