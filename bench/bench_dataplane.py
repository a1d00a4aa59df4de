"""Requests through the simulated gateway against a bare loopback HTTP server, in the same run.

Each request through the sandbox routes against the store as it is (World snapshot), applies the
route's filters and answers from the echo backend (which logs on its pod). The baseline is a
ThreadingHTTPServer answering a fixed JSON body on another loopback socket.

    .venv/bin/python bench/bench_dataplane.py [requests]
"""

from __future__ import annotations

import json
import http.client
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sandbox"))

ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bench, namespace: istio-ingress}
spec:
  parentRefs: [{name: emojivoto}]
  rules:
  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: x-bench, value: "1"}]}}]
    backendRefs: [{name: web, port: 80}]
"""


class _Fixed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _timed(address: str, port: int, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        conn = http.client.HTTPConnection(address, port, timeout=10)
        conn.request("GET", "/bench")
        resp = conn.getresponse()
        resp.read()
        conn.close()
        assert resp.status == 200, resp.status
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    import istio_fixtures as fx
    from cluster_fixtures import deployment_yaml, service_yaml

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    baseline = ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    threading.Thread(target=baseline.serve_forever, daemon=True).start()
    blog = fx.start_blog(Path(tempfile.mkdtemp(prefix="bench-dataplane-")))
    try:
        blog.tool("istioctl install --set profile=minimal -y")
        blog.kubectl("create", "namespace", "istio-ingress")
        blog.install_crds()
        gateway = fx.GATEWAY_YAML.replace("from: Selector", "from: All").split("        selector:")[0]
        blog.apply(deployment_yaml("web", ns="istio-ingress") + "---\n" + service_yaml("web", ns="istio-ingress")
                   + "---\n" + gateway + "---\n" + ROUTE)
        blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")
        blog.wait("--for=condition=Available", "deploy/web", "-n", "istio-ingress")
        base = _timed("127.0.0.1", baseline.server_address[1], n)
        gate = _timed(blog.address, 8080, n)
    finally:
        blog.stop()
        baseline.shutdown()
    b, g = statistics.median(base), statistics.median(gate)
    print(f"requests: {n} each, sequential, new connection per request")
    print(f"baseline (bare loopback server): median {b * 1000:.2f} ms")
    print(f"simulated gateway (route + filter + echo): median {g * 1000:.2f} ms, p95 "
          f"{sorted(gate)[int(0.95 * n)] * 1000:.2f} ms")
    print(f"ratio gateway/baseline: {g / b:.1f}")


if __name__ == "__main__":
    main()
