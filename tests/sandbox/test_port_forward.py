"""Port-forward against a sandbox cluster, with real kubectl 1.32 and the real kubernetes python client.

kubectl speaks SPDY/3.1 tunneled in a WebSocket (and plain SPDY when KUBECTL_PORT_FORWARD_WEBSOCKETS
is false); the python client speaks the v4 channel protocol. Both reach the program the sandbox
models in the pod (nginx, Emojivoto's web app, an unknown program's echo), and a port nothing
listens on gets containerd's "connection refused" as on a real node.
"""

from __future__ import annotations

import json
import select
import time
import urllib.error

import pytest
from cluster_fixtures import deployment_yaml, port_forward, sandbox  # noqa: F401 - the fixture
from cluster_fixtures import http_get as _get

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client, config  # noqa: E402
from kubernetes.stream import portforward  # noqa: E402


def _nginx(sb) -> None:
    sb.kubectl("run", "web", "--image=nginx:1.27")
    sb.wait("--for=condition=Ready", "pod/web")


def test_kubectl_port_forward_to_a_pod_reaches_nginx(sandbox):  # noqa: F811
    _nginx(sandbox)
    with port_forward(sandbox, "pod/web", 80) as (port, _, _):
        status, headers, body = _get(port)
        assert status == 200 and "<h1>Welcome to nginx!</h1>" in body and headers["Server"] == "nginx/1.27"
        status, _, body = _get(port, "/missing")
        assert status == 404 and "<center><h1>404 Not Found</h1></center>" in body
    logs = sandbox.kubectl("logs", "web").stdout
    assert '"GET / HTTP/1.1" 200 615' in logs and '"GET /missing HTTP/1.1" 404' in logs  # nginx's access log


def test_kubectl_port_forward_to_a_service_picks_a_pod_and_its_target_port(sandbox):  # noqa: F811
    sandbox.kubectl("apply", "-f", "-", input=deployment_yaml(
        "web", image="docker.l5d.io/buoyantio/emojivoto-web:v11"))
    sandbox.kubectl("create", "service", "clusterip", "web-svc", "--tcp=80:8080")
    sandbox.kubectl("set", "selector", "service/web-svc", "app=web")
    sandbox.wait("--for=condition=Available", "deployment/web")
    with port_forward(sandbox, "svc/web-svc", 80) as (port, pod_port, _):
        assert pod_port == 8080  # kubectl turned the Service's port into the pod's target port
        status, _, body = _get(port, "/api/list")
        assert status == 200 and {"shortcode": ":joy:", "unicode": "\U0001F602"} in json.loads(body)
        assert _get(port, "/api/vote?choice=:doughnut:")[0] == 500


def test_kubectl_port_forward_to_the_gateway_service_routes_as_that_gateway(blog):
    """The learner's fallback without a load balancer: the Gateway's Envoy answers through its pod."""
    with port_forward(blog, "svc/emojivoto-istio", 8080, namespace="istio-ingress") as (port, pod_port, _):
        assert pod_port == 8080
        status, headers, body = _get(port)
        assert status == 200 and "<title>Emoji Vote</title>" in body and headers["Server"] == "istio-envoy"
        assert "x-envoy-upstream-service-time" in {k.lower() for k in headers}
        assert _get(port, "/api/vote?choice=:doughnut:")[0] == 500
    with port_forward(blog, "svc/emojivoto-istio", 15021, namespace="istio-ingress") as (port, _, _):
        assert _get(port, "/healthz/ready")[0] == 200  # what its readiness probe asks


def test_a_closed_port_is_refused_as_containerd_words_it(sandbox):  # noqa: F811
    _nginx(sandbox)
    with port_forward(sandbox, "pod/web", 81) as (port, _, proc):
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            _get(port)
        assert proc.wait(timeout=20) == 1
        err = proc.stderr.read()
    assert "failed to connect to localhost:81 inside namespace" in err
    assert "dial tcp4 127.0.0.1:81: connect: connection refused" in err and "lost connection to pod" in err


def test_kubectl_falls_back_to_plain_spdy(sandbox):  # noqa: F811
    _nginx(sandbox)
    with port_forward(sandbox, "pod/web", 80, websockets=False) as (port, _, _):
        assert _get(port)[0] == 200 and _get(port)[0] == 200  # two connections, one SPDY session


@pytest.fixture
def api(sandbox):  # noqa: F811
    with config.new_client_from_config(config_file=str(sandbox.kubeconfig)) as api_client:
        yield client.CoreV1Api(api_client)


def _python_pod(sb, api, ports: list[str], container_ports=()) -> None:
    api.create_namespaced_pod("default", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "srv"},
        "spec": {"containers": [{"name": "srv", "image": "python", "command": ["python", "/opt/srv.py", *ports],
                                 "ports": [{"containerPort": p} for p in container_ports]}]}})
    sb.wait("--for=condition=Ready", "pod/srv")


def _recv_exactly(sock, n: int) -> bytes:
    data, deadline = b"", time.monotonic() + 20
    while len(data) < n and time.monotonic() < deadline:
        if select.select([sock], [], [], 1)[0]:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
    return data


def test_python_client_raw_port_forward_echoes_and_reports_refused_ports(sandbox, api):  # noqa: F811
    _python_pod(sandbox, api, ["1234"])
    pf = portforward(api.connect_get_namespaced_pod_portforward, "srv", "default", ports="1234,1236")
    sock = pf.socket(1234)
    sock.setblocking(True)
    sock.sendall(b"hello through the tunnel")
    assert _recv_exactly(sock, 24) == b"hello through the tunnel"
    refused = pf.socket(1236)
    refused.setblocking(True)
    assert refused.recv(1024) == b""
    assert "localhost:1236" in pf.error(1236) and "connection refused" in pf.error(1236)
    assert pf.error(1234) is None
    sock.close()
    refused.close()


def test_python_client_http_to_an_unknown_program_says_it_is_not_simulated(sandbox, api):  # noqa: F811
    _python_pod(sandbox, api, [], container_ports=[8000])
    pf = portforward(api.connect_get_namespaced_pod_portforward, "srv", "default", ports="8000")
    sock = pf.socket(8000)
    sock.setblocking(True)
    sock.sendall(b"GET /hello HTTP/1.1\r\nHost: srv\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := _recv_until_closed(sock):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 501 Not Implemented\r\n")
    assert b"GET /hello to port 8000 is not simulated by the sandbox" in answer


def _recv_until_closed(sock) -> bytes:
    return sock.recv(4096) if select.select([sock], [], [], 20)[0] else b""


def test_port_forward_needs_a_running_pod(sandbox):  # noqa: F811
    sandbox.kubectl("run", "broken", "--image=nosuchregistry.example/web:1")
    proc = sandbox.kubectl("port-forward", "pod/broken", "0:80", check=False)
    assert proc.returncode == 1 and "pod is not running" in proc.stderr
