"""The simulated tools' HTTP/1.1 client (simtools/wire.py) against a real http.server: kept
connections, bodies by Content-Length, chunked and read-to-close, and a server that hung up."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tutorial.sandbox.simtools.kube import _quote, _split_server
from tutorial.sandbox.simtools.wire import Connection, RemoteDisconnected


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b'{"a":', b' 1}'):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/to-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        else:
            body = f"{self.path} {self.headers['Host']} {self.headers['X-Test']}".encode()
            self.send_response(404 if self.path == "/missing" else 200, "Fine")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_kept_connection_lengths_chunks_and_close(server):
    conn = Connection("127.0.0.1", server.server_address[1], timeout=10)
    status, reason, body, closes = conn.request("GET", "/x", None, {"X-Test": "1"})
    assert (status, reason, body, closes) == (200, "Fine", f"/x 127.0.0.1:{server.server_address[1]} 1".encode(), False)
    first = conn.sock
    assert conn.request("GET", "/missing", None, {})[0] == 404
    assert conn.request("POST", "/echo", b'{"k": "v"}', {"Content-Type": "application/json"})[:3] == (
        201, "Created", b'{"k": "v"}')
    assert conn.request("GET", "/chunked", None, {})[2] == b'{"a": 1}'
    assert conn.sock is first  # one connection for all four
    assert conn.request("GET", "/to-close", None, {})[2:] == (b"until the end", True)


def test_a_server_that_hangs_up_without_answering_is_remote_disconnected():
    import socket

    listener = socket.create_server(("127.0.0.1", 0))

    def hang_up():
        peer, _ = listener.accept()
        peer.recv(65536)
        peer.close()
    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    conn = Connection("127.0.0.1", listener.getsockname()[1], timeout=10)
    with pytest.raises(RemoteDisconnected):
        conn.request("GET", "/x", None, {})
    thread.join(10)
    listener.close()


def test_server_urls_and_selector_quoting():
    assert _split_server("https://127.0.0.1:6443") == ("127.0.0.1", 6443, "")
    assert _split_server("https://Example.COM/k8s/clusters/c-1/") == ("example.com", None, "/k8s/clusters/c-1")
    assert _split_server("https://[::1]:8443/p") == ("::1", 8443, "/p")
    assert _quote("owner=helm,name=istio-base") == "owner%3Dhelm%2Cname%3Distio-base"
    assert _quote("app in (a b)/é") == "app%20in%20%28a%20b%29/%C3%A9"
