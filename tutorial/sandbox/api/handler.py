"""One HTTP request to the sandbox API server: connection limits, reading the body, authentication, routing.

Each connection gets a Handler (http.server) bound to its ApiServer (server.py). It answers
health, version, discovery and OpenAPI itself and hands resource paths to the REST verbs
(rest.py). It is the HTTP side of the apirequest.Handler interface the verbs use: send_json,
send_bytes and the chunked-stream methods. A connection idle for IDLE_TIMEOUT, or silent for
READ_TIMEOUT in the middle of a request, is closed.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import urllib.parse
from http.server import BaseHTTPRequestHandler
from typing import Any

from tutorial.sandbox.api import discovery, openapi, requestcheck
from tutorial.sandbox.api.apirequest import ApiError, Request, parse_resource_path, status_body
from tutorial.sandbox.api.rest import dispatch

log = logging.getLogger(__name__)
IDLE_TIMEOUT = 60.0    # seconds a kept-alive connection may wait for its next request
READ_TIMEOUT = 15.0    # seconds without a byte in the middle of a request (headers or body)


class Handler(BaseHTTPRequestHandler):
    """One HTTP request; routes to discovery, openapi or the REST verbs."""

    protocol_version = "HTTP/1.1"
    api: Any  # the ApiServer this handler class is bound to (server.py)
    timeout = IDLE_TIMEOUT  # StreamRequestHandler sets it on the socket: a silent connection ends

    def setup(self) -> None:
        if hasattr(self.request, "do_handshake"):
            self.request.settimeout(self.api.read_timeout)
            self.request.do_handshake()  # a failed or silent handshake ends this connection only
        super().setup()
        # answers go out in several writes; without NODELAY, Nagle + delayed ACK add ~40 ms each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.api._conn_lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        with self.api._conn_lock:
            self.api._connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the peer is gone

    def parse_request(self) -> bool:
        """The request line is in: from here on, a silent client has READ_TIMEOUT, not IDLE_TIMEOUT."""
        self.connection.settimeout(self.api.read_timeout)
        return super().parse_request()

    def handle_one_request(self) -> None:
        self._round_trip = None  # set per request by _serve
        super().handle_one_request()
        try:
            self.connection.settimeout(self.api.idle_timeout)  # back to waiting for the next request
        except OSError:
            pass

    def _authorized(self) -> bool:
        """Authorization: Bearer <this cluster's token>, compared in constant time."""
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.api.token.encode())

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature from the base class
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_PATCH(self):
        self._serve("PATCH")

    def do_DELETE(self):
        self._serve("DELETE")

    def do_OPTIONS(self):
        self._serve("OPTIONS")

    def do_HEAD(self):
        self._read_body()
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _read_body(self) -> bytes:
        """The request body; bodies over the real server's 3 MiB limit are read, dropped and refused (413)."""
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    requestcheck.check_length(total)
                    return b"".join(chunks)
                total += size
                chunk = self.rfile.read(size)
                if total <= requestcheck.MAX_BODY_BYTES:
                    chunks.append(chunk)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > requestcheck.MAX_BODY_BYTES:
            self._drain(length)
            requestcheck.check_length(length)
        return self.rfile.read(length) if length > 0 else b""

    def _drain(self, length: int) -> None:
        while length > 0:
            got = self.rfile.read(min(length, 1 << 20))
            if not got:
                raise OSError("the client stopped sending its body")
            length -= len(got)

    def _serve(self, method: str) -> None:
        self._streaming = False
        self.warnings: list[str] = []  # Warning headers of this answer (field validation, admission policies)
        try:
            body = self._read_body()
        except ApiError as e:  # too large: the body was read and dropped
            return self.send_status(e)
        except (ValueError, OSError):
            self.close_connection = True
            return self.send_json(400, status_body(400, "BadRequest", "the request body could not be read"))
        faults = self.api.faults
        if faults is not None and faults.unreachable():
            self.close_connection = True  # as if nothing listened: no answer at all
            return
        # api-latency: the network round trip, waited just before the answer leaves (send_response), so
        # the request is served while its thread is warm (after a 30 ms sleep the same work costs the
        # CPU some 0.2 ms more: measured 0.77 -> 0.54 ms per GET); the client sees the same wait
        self._round_trip = getattr(faults, "delay_request", _no_delay)
        if not self._authorized():  # what an API server without anonymous access answers
            return self.send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
        try:
            self._route(method, body)
        except ApiError as e:
            self.send_status(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # noqa: BLE001 - a bug must become a 500, never a dead server
            log.exception("sandbox API server: unexpected error on %s %s", method, self.path)
            if getattr(self, "_streaming", False):
                self.close_connection = True  # mid-stream: the only honest signal left is to hang up
                return
            self.send_json(500, status_body(500, "InternalError", f"sandbox API server error: {e}"))

    def _route(self, method: str, body: bytes) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        if self._plain(method, parts):
            return
        faults = self.api.faults
        if faults is not None and faults.api_error_now():
            raise ApiError(500, "InternalError", "an error on the server (simulated fault flaky-api) "
                                                 "has prevented the request from succeeding")
        if len(parts) >= 3 and ((parts[0] == "api" and parts[1] == "v1") or (parts[0] == "apis" and len(parts) >= 4)):
            rt, version, ns, name, sub = parse_resource_path(parts, self.api.registry)
            req = Request(method, rt, version, ns, name, sub, query, self.headers, body)
            return dispatch(self, req)
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _plain(self, method: str, parts: list[str]) -> bool:
        """Non-resource endpoints: health, version, discovery, openapi. True when answered."""
        reg = self.api.registry
        if method != "GET":
            return False
        if parts in (["healthz"], ["readyz"], ["livez"]):
            self.send_text(200, "ok")
        elif parts == ["version"]:
            self.send_json(200, discovery.VERSION_INFO)
        elif parts in (["api"], ["apis"]) and discovery.aggregated_version(self.headers.get("Accept", "")):
            version = discovery.aggregated_version(self.headers.get("Accept", ""))
            body = json.dumps(discovery.aggregated_list(reg, parts == ["api"], version), separators=(",", ":"))
            self.send_bytes(200, body.encode(), discovery.aggregated_content_type(version), {"Vary": "Accept"})
        elif parts == ["api"]:
            self.send_json(200, discovery.api_versions(f"{self.api.host}:{self.api.port}"))
        elif parts == ["apis"]:
            self.send_json(200, discovery.api_group_list(reg))
        elif len(parts) == 2 and parts[0] == "apis" and parts[1] in reg.group_versions():
            self.send_json(200, dict(discovery.api_group(parts[1], reg.group_versions()[parts[1]]),
                                     kind="APIGroup", apiVersion="v1"))
        elif parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
            doc = discovery.api_resource_list(reg, group, version)
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self.send_json(200, doc)
        elif parts[:2] == ["openapi", "v3"]:
            self._openapi(parts[2:])
        elif parts[:2] == ["openapi", "v2"] or parts == ["swagger.json"]:
            self.send_bytes(200, openapi.v2_protobuf(), openapi.V2_PROTOBUF_TYPE)
        else:
            return False
        return True

    def _openapi(self, rest_parts: list[str]) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        code, payload, headers = openapi.answer(self.api.registry, self.api.store, rest_parts, query)
        self.send_bytes(code, payload, "application/json", headers)

    # ---- writing answers ----
    def send_response(self, code: int, message: str | None = None) -> None:
        """Every answer (JSON, streams, upgrades, errors) starts here: the api-latency wait comes first."""
        delay, self._round_trip = getattr(self, "_round_trip", None), None
        if delay is not None:
            delay()
        super().send_response(code, message)

    def send_status(self, e: ApiError) -> None:
        """An error as a Status; like the real server's JSON encoder, the body ends with a newline."""
        body = json.dumps(status_body(e.code, e.reason, e.message, e.details), separators=(",", ":")) + "\n"
        self.send_bytes(e.code, body.encode(), "application/json")

    def send_json(self, code: int, data: object) -> None:
        self.send_bytes(code, json.dumps(data, separators=(",", ":")).encode(), "application/json")

    def send_text(self, code: int, text: str) -> None:
        self.send_bytes(code, text.encode(), "text/plain; charset=utf-8")

    def send_bytes(self, code: int, payload: bytes, ctype: str, headers: dict | None = None) -> None:
        """headers: extra ones (an OpenAPI document's caching), replacing the default Cache-Control."""
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        headers = headers or {}
        for name, value in {"Cache-Control": "no-cache, private", **headers}.items():
            self.send_header(name, value)
        for text in getattr(self, "warnings", ()):
            quoted = text.replace("\\", "\\\\").replace('"', '\\"')
            self.send_header("Warning", f'299 - "{quoted}"')
        self.end_headers()
        self.wfile.write(payload)

    def start_stream(self) -> None:
        self._streaming = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _no_delay() -> None:
    """Faults objects without api-latency (tests' own) answer at once."""
