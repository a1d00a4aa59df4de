"""What listens inside a simulated pod, and what it answers: the far end of `kubectl port-forward`.

No process runs in the sandbox, so a connection to a pod's port reaches a model of the program:
- known applications on their real ports: nginx (80, its welcome page and 404 page), httpd (80),
  Emojivoto's web app (WEB_PORT, default 8080; the same answers the gateway data plane gives),
  the Gateway API echo server (echo-basic, 3000; JSON naming this pod), and an Istio gateway's
  Envoy (each HTTP listener port of its Gateway, routed by istio/envoy.py as that Gateway);
- a program the sandbox does not know listens on the ports its spec names (containerPort, a
  tcpSocket/httpGet probe, a port number on its command line); raw bytes sent there are echoed
  back, and an HTTP request gets a 501 saying the program is not simulated by the sandbox;
- any other port refuses the connection, in containerd's words, as on a real node.
Each connection is synchronous: `send(data)` returns the program's answer, `closed` says it hung up.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from email.utils import formatdate
from urllib.parse import parse_qsl

from tutorial.sandbox.kubelet.images import reference

NGINX_INDEX = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Not Allowed", 500: "Internal Server Error",
            501: "Not Implemented"}
_PORT_ARG = re.compile(r"^\d{2,5}$")
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"


class Refused(Exception):
    """Nothing listens on the port: the kubelet's error for the port-forward error stream."""


class Connection:
    """A TCP connection into the pod; subclasses model the program at the other end."""

    closed = False

    def send(self, data: bytes) -> bytes:
        raise NotImplementedError

    def shutdown(self) -> bytes:
        """The client finished sending: what the program still writes before it closes."""
        self.closed = True
        return b""


class Echo(Connection):
    def send(self, data: bytes) -> bytes:
        return data


class Http(Connection):
    """HTTP/1.1 with keep-alive: complete requests are answered in order by `app(method, path, headers)`."""

    def __init__(self, app, server: str, log=None) -> None:
        self.app, self.server, self.log, self._buffer = app, server, log, b""

    def send(self, data: bytes) -> bytes:
        self._buffer += data
        out = b""
        while not self.closed and b"\r\n\r\n" in self._buffer:
            head, _, rest = self._buffer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
            length = int(next((v for k, v in headers if k.lower() == "content-length"), "0") or 0)
            if len(rest) < length:
                break
            self._buffer = rest[length:]
            out += self._answer(lines[0], dict((k.lower(), v) for k, v in headers))
        return out

    def _answer(self, request_line: str, headers: dict[str, str]) -> bytes:
        parts = request_line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self.closed = True
            return self._response(400, "text/html", "<html><body>400 Bad Request</body></html>\n", close=True)
        method, target, version = parts
        close = headers.get("connection", "").lower() == "close" or (
            version == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive")
        status, ctype, body = self.app(method, target, headers)
        self.closed = close
        if self.log is not None:
            self.log(method, target, status, len(body.encode() if isinstance(body, str) else body), headers)
        return self._response(status, ctype, body, close, head=method == "HEAD")

    def _response(self, status: int, ctype: str | list, body: str | bytes, close: bool, head: bool = False) -> bytes:
        """ctype is a Content-Type, or the program's own header list."""
        payload = body.encode() if isinstance(body, str) else body
        own = [f"{k}: {v}" for k, v in ctype] if isinstance(ctype, list) else [f"Content-Type: {ctype}"]
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}", f"Server: {self.server}" if self.server else "",
                 f"Date: {formatdate(usegmt=True)}", *own, f"Content-Length: {len(payload)}",
                 f"Connection: {'close' if close else 'keep-alive'}"]
        return ("\r\n".join(line for line in lines if line) + "\r\n\r\n").encode() + (b"" if head else payload)


class Sniff(Connection):
    """An unknown program: HTTP gets a clear 501, anything else is echoed."""

    def __init__(self, image: str, port: int) -> None:
        self.image, self.port, self.inner = image, port, None

    def send(self, data: bytes) -> bytes:
        if self.inner is None:
            http = re.match(rb"^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) ", data)
            self.inner = Http(self._not_simulated, "") if http else Echo()
        out = self.inner.send(data)
        self.closed = self.inner.closed
        return out

    def _not_simulated(self, method: str, target: str, headers: dict) -> tuple[int, str, str]:
        return 501, "text/plain; charset=utf-8", (
            f"SIMULATED: the sandbox does not run the program of {self.image}, so the HTTP request {method} "
            f"{target} to port {self.port} is not simulated by the sandbox (raw TCP is echoed back)\n")


def _nginx(version: str):
    def app(method: str, target: str, headers: dict) -> tuple[int, str, str]:
        if method not in ("GET", "HEAD"):
            return 405, "text/html", _nginx_error(405, version)
        if target.split("?")[0] in ("/", "/index.html"):
            return 200, "text/html", NGINX_INDEX
        return 404, "text/html", _nginx_error(404, version)
    return app


def _nginx_error(status: int, version: str) -> str:
    title = f"{status} {_REASONS[status]}"
    return (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            f"<hr><center>nginx/{version}</center>\r\n</body>\r\n</html>\r\n")


def _httpd(method: str, target: str, headers: dict) -> tuple[int, str, str]:
    return 200, "text/html", HTTPD_INDEX


def _emojivoto(method: str, target: str, headers: dict) -> tuple[int, str, str]:
    from tutorial.sandbox.istio import emojivoto

    path, _, query = target.partition("?")
    return emojivoto.respond(method, path, dict(parse_qsl(query, keep_blank_values=True)), "(port-forward)")


def _echo(pod: dict, port: int):
    def app(method: str, target: str, headers: dict) -> tuple[int, str, str]:
        meta = pod["metadata"]
        body = {"path": target, "host": headers.get("host", ""), "method": method, "proto": "HTTP/1.1",
                "headers": {"-".join(p.capitalize() for p in k.split("-")): [v] for k, v in headers.items()
                            if k != "host"},
                "namespace": meta.get("namespace", "default"), "ingress": "", "service": "", "pod": meta["name"]}
        return 200, "application/json", json.dumps(body, indent=1)
    return app


def _gateway(store, pod: dict) -> dict[int, object]:
    """An Istio gateway pod: its Envoy answers on the Gateway's HTTP listener ports, as that Gateway."""
    from tutorial.sandbox.istio import binding
    from tutorial.sandbox.istio.model import World

    ns = pod["metadata"].get("namespace", "default")
    name = (pod["metadata"].get("labels") or {}).get(GATEWAY_NAME_LABEL, "")
    gateway = World.from_store(store).gateway(ns, name) if store is not None else None
    ports = {lst.port for lst in binding.listeners_of(gateway or {}) if lst.protocol in ("HTTP", "HTTPS")}
    out = {port: (lambda port=port: Http(_envoy(store, ns, name, port), "istio-envoy")) for port in ports}
    out.setdefault(15021, lambda: Http(_status_port, "envoy"))  # the readiness probe's port
    return out


def _status_port(method: str, target: str, headers: dict) -> tuple[int, str, str]:
    return (200, "text/plain", "") if target.split("?")[0] == "/healthz/ready" else (404, "text/plain", "")


def _envoy(store, ns: str, name: str, port: int):
    def app(method: str, target: str, headers: dict) -> tuple[int, list, bytes]:
        from tutorial.sandbox.istio import envoy
        from tutorial.sandbox.istio.model import World

        world = World.from_store(store, with_pods=True)
        gateway = world.gateway(ns, name)
        if gateway is None:
            return 404, [("content-type", "text/plain")], b""
        request = envoy.Request(method, target, list(headers.items()), port=port, client="127.0.0.1")
        response = envoy.handle(world, "", port, request, gateway=gateway)
        return response.status, list(response.headers), response.body
    return app


def _env(container: dict, name: str, default: str) -> str:
    return next((str(e.get("value")) for e in container.get("env") or [] if e.get("name") == name), default)


def _known(pod: dict, container: dict, store=None, client: str = "127.0.0.1") -> dict[int, object] | None:
    """port -> connection factory for the applications the sandbox models, None for any other image."""
    image = container.get("image", "")
    _, path, tag = reference(image)
    if path.endswith("/proxyv2") and GATEWAY_NAME_LABEL in (pod["metadata"].get("labels") or {}):
        return _gateway(store, pod)
    if path.endswith("nginx"):
        version = tag if tag[:1].isdigit() else "1.27.3"
        return {80: lambda: Http(_nginx(version), f"nginx/{version}", _access_log(pod, client))}
    if path.endswith("library/httpd"):
        return {80: lambda: Http(_httpd, "Apache/2.4.62 (Unix)")}
    if path.endswith("emojivoto-web"):
        return {int(_env(container, "WEB_PORT", "8080")): lambda: Http(_emojivoto, "")}
    if path.endswith("echo-basic"):
        port = int(_env(container, "HTTP_PORT", "3000"))
        return {port: lambda: Http(_echo(pod, port), "")}
    return None


def named_ports(container: dict) -> set[int]:
    """The ports a program's spec names: containerPorts, tcpSocket/httpGet probes, numbers on its command line."""
    ports = {int(p["containerPort"]) for p in container.get("ports") or [] if str(p.get("containerPort", "")).isdigit()}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        spec = container.get(probe) or {}
        for kind in ("tcpSocket", "httpGet"):
            port = (spec.get(kind) or {}).get("port")
            if isinstance(port, int) or str(port).isdigit():
                ports.add(int(port))
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    ports |= {int(a) for a in argv[1:] if _PORT_ARG.match(a) and 0 < int(a) < 65536}
    return ports


def connect(pod: dict, port: int, store=None, client: str = "127.0.0.1") -> Connection:
    """A connection to port in the pod's network namespace (from localhost, or from the pod IP `client`),
    or Refused with the runtime's words."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        known = _known(pod, container, store, client)
        if known is not None and port in known:
            return known[port]()
        if known is None and port in named_ports(container):
            return Sniff(container.get("image", ""), port)
    raise Refused(refused_message(pod, port))


def refused_message(pod: dict, port: int) -> str:
    """The kubelet's error-stream text when nothing listens (containerd's CRI port forward)."""
    meta = pod["metadata"]
    sandbox = hashlib.sha256(f"sandbox/{meta.get('uid', '')}".encode()).hexdigest()
    netns = hashlib.sha256(f"netns/{meta.get('uid', '')}".encode()).hexdigest()
    netns = f"cni-{netns[:8]}-{netns[8:12]}-{netns[12:16]}-{netns[16:20]}-{netns[20:32]}"
    return (f"error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network "
            f'namespace "/var/run/netns/{netns}": failed to connect to localhost:{port} inside namespace '
            f'"{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused '
            f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused ")


def _access_log(pod: dict, client: str):
    """nginx writes one line per request to its stdout (combined format); port-forward comes from 127.0.0.1."""
    def log(method: str, target: str, status: int, size: int, headers: dict) -> None:
        from tutorial.sandbox.kubelet import servedlogs

        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")
        agent = headers.get("user-agent", "-")
        servedlogs.append(pod["metadata"].get("uid", ""),
                          f'{client} - - [{stamp}] "{method} {target} HTTP/1.1" {status} {size} "-" "{agent}" "-"')
    return log
