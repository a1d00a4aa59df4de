"""Reaching the Gateway without a load balancer: how to tell, and a managed port-forward.

On a laptop cluster nothing may hand out LoadBalancer addresses, so the Gateway never gets one.
`LoadBalancerEvidence` says whether that is the case; `open_forward` then reaches the Gateway's
Service on a free loopback port: a `kubectl port-forward` in its own process group on a real
cluster, or, on the sandbox (whose pods are not real), the simulated proxy served on loopback.
"""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

from tutorial.cluster.client import ClusterClient, ClusterError

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
SANDBOX_LABEL = "gateway-tutorial.dev/sandbox"
READY_TIMEOUT = 15.0  # seconds kubectl gets to print "Forwarding from"
CLOUD_KINDS = ("eks", "gke", "aks", "doks")


class ForwardError(Exception):
    """The port-forward could not start; the message says why and what to try."""


# -- does anything hand out LoadBalancer addresses? ------------------------------------

def lb_events(client: ClusterClient, svc: dict) -> list[str]:
    """Reasons of the Events a load-balancer controller left on this Service (EnsuringLoadBalancer...)."""
    meta = svc.get("metadata") or {}
    selector = f"involvedObject.kind=Service,involvedObject.name={meta.get('name')}"
    try:
        events = client.list(client.resource("v1", "Event"), meta.get("namespace"), field_selector=selector)[0]
    except ClusterError:
        return []
    return [e.get("reason", "") for e in events if "LoadBalancer" in e.get("reason", "") or
            e.get("reason") in ("IPAllocated", "AllocationFailed")]


def lb_ingress(svc: dict) -> list[str]:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [i.get("ip") or i.get("hostname") or "?" for i in ingress]


@dataclass
class LoadBalancerEvidence:
    """What the cluster shows about LoadBalancer support: Services, MetalLB, ServiceLB."""

    with_address: list[str] = field(default_factory=list)   # "ns/name=1.2.3.4"
    pending: list[str] = field(default_factory=list)        # "ns/name"
    handled_pending: list[str] = field(default_factory=list)  # pending, but a controller is working on it
    metallb: bool = False
    metallb_pools: int = 0
    servicelb: bool = False

    @classmethod
    def gather(cls, client: ClusterClient) -> "LoadBalancerEvidence":
        ev = cls()
        for svc in client.list(client.resource("v1", "Service"))[0]:
            if (svc.get("spec") or {}).get("type") != "LoadBalancer":
                continue
            name = "{namespace}/{name}".format(**svc["metadata"])
            if lb_ingress(svc):
                ev.with_address.append(f"{name}={','.join(lb_ingress(svc))}")
            else:
                ev.pending.append(name)
                if lb_events(client, svc):
                    ev.handled_pending.append(name)
        ref = client.resource("v1", "Namespace")
        ev.metallb = client.get(ref, None, "metallb-system") is not None
        if ev.metallb:
            ev.metallb_pools = _count(client, "/apis/metallb.io/v1beta1/ipaddresspools")
        ev.servicelb = bool(client.list(client.resource("v1", "Pod"), None,
                                        label_selector="svccontroller.k3s.cattle.io/svcname")[0])
        return ev

    def verdict(self, kind: str, nodes: list[dict]) -> tuple[bool | None, str, str, str, str]:
        """(available, severity, found, consequence, fix) for doctor."""
        if self.with_address:
            return True, "ok", f"LoadBalancer Services get addresses: {', '.join(self.with_address[:3])}", "", ""
        unhandled = [p for p in self.pending if p not in self.handled_pending]
        if unhandled:
            return False, "warn", f"LoadBalancer Service(s) without an address and with no load-balancer " \
                f"controller acting on them: {', '.join(unhandled[:3])}", NO_LB_CONSEQUENCE, no_lb_fix(kind)
        if self.metallb:
            if not self.metallb_pools:
                return False, "warn", "MetalLB is installed (metallb-system) but has no IPAddressPool", \
                    NO_LB_CONSEQUENCE, "Create an IPAddressPool and an L2Advertisement in metallb-system."
            return True, "ok", f"MetalLB with {self.metallb_pools} IPAddressPool(s)", "", ""
        if self.servicelb or kind in ("k3s", "k3d"):
            return True, "ok", "k3s ServiceLB (svclb pods) hands out node addresses", "", \
                "On k3d, map the Gateway's port: `k3d cluster edit CLUSTER --port-add 8080:8080@loadbalancer`."
        if kind in CLOUD_KINDS or kind in ("docker-desktop", "sandbox"):
            note = "the sandbox simulates one on loopback" if kind == "sandbox" else "the platform provides one"
            return True, "ok", f"no LoadBalancer Service yet; {note}", "", ""
        if kind in ("kind", "minikube"):
            return False, "warn", f"{kind} with no LoadBalancer Service holding an address and no MetalLB", \
                NO_LB_CONSEQUENCE, no_lb_fix(kind)
        return None, "info", "no LoadBalancer Service yet, so whether they get addresses is unknown", \
            "If the Gateway stays without an address, lesson 6 uses a port-forward.", ""


NO_LB_CONSEQUENCE = ("The Gateway's Service will wait for an address forever: the Gateway stays Programmed=False "
                     "(AddressNotAssigned) with no ADDRESS. Lesson 6 then reaches it through a port-forward.")


def no_lb_fix(kind: str) -> str:
    fixes = {"kind": "Run cloud-provider-kind in another terminal (`go install sigs.k8s.io/cloud-provider-kind@latest`),"
                     " or install MetalLB; or rely on the port-forward.",
             "minikube": "Run `minikube tunnel` in another terminal and keep it running.",
             "sandbox": "The sandbox runs with its no-lb fault (`sandbox serve --fault no-lb`): serve it without "
                        "that fault to get addresses, or keep it and learn the port-forward path."}
    return fixes.get(kind, "Install a load-balancer implementation (MetalLB), or rely on the port-forward: "
                           "`kubectl port-forward -n istio-ingress svc/emojivoto-istio 8080:8080`.")


def _count(client: ClusterClient, path: str) -> int:
    try:
        return len(client.get_json(path).get("items") or [])
    except ClusterError:
        return 0


def is_sandbox(client: ClusterClient) -> bool:
    """The sandbox labels its one node; real clusters never carry that label."""
    nodes = client.list(client.resource("v1", "Node"), label_selector=f"{SANDBOX_LABEL}=true")[0]
    return bool(nodes)


def gateway_service(client: ClusterClient, gateway: dict) -> dict | None:
    """The Service Istio made for a managed Gateway (labelled with its name), else `<gw>-<class>`."""
    meta = gateway.get("metadata") or {}
    ref = client.resource("v1", "Service")
    found = client.list(ref, meta.get("namespace"), label_selector=f"{GATEWAY_NAME_LABEL}={meta.get('name')}")[0]
    if found:
        return found[0]
    return client.get(ref, meta.get("namespace"), f"{meta.get('name')}-{(gateway.get('spec') or {}).get('gatewayClassName')}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def forward_command(namespace: str, service: str, local: int, remote: int) -> list[str]:
    return ["kubectl", "port-forward", "-n", namespace, f"svc/{service}", f"{local}:{remote}", "--address", "127.0.0.1"]


# -- the forwarders -------------------------------------------------------------------

@contextmanager
def open_forward(client: ClusterClient, run_target, namespace: str, service: str, port: int,
                 sandbox: bool | None = None) -> Iterator[tuple[str, str]]:
    """Yield (base URL, command shown to the learner) while a forward to svc:port runs; stop it after."""
    sandbox = is_sandbox(client) if sandbox is None else sandbox
    local = free_port()
    shown = " ".join(forward_command(namespace, service, local, port)[:6])
    forwarder = SandboxForward(client, namespace, service, port, local) if sandbox else \
        KubectlForward(run_target, namespace, service, port, local)
    forwarder.start()
    try:
        yield f"http://127.0.0.1:{local}", shown
    finally:
        forwarder.stop()


class KubectlForward:
    """`kubectl port-forward` as a managed child in its own process group, ended on stop()."""

    def __init__(self, run_target, namespace: str, service: str, port: int, local: int):
        from tutorial.engine.runner import CommandRun, CommandSpec

        self.ready = threading.Event()
        self.lines: list[str] = []
        spec = CommandSpec(argv=forward_command(namespace, service, local, port), timeout=None)
        self.run = CommandRun(spec, run_target, on_output=self._output)
        self.result = None
        self._thread = threading.Thread(target=self._wait, daemon=True, name="port-forward")

    def _output(self, stream: str, line: str) -> None:
        self.lines.append(line)
        if line.startswith("Forwarding from"):
            self.ready.set()

    def _wait(self) -> None:
        self.result = self.run.wait()
        self.ready.set()  # wake start(): it ended before being ready

    def start(self) -> None:
        self._thread.start()
        self.ready.wait(READY_TIMEOUT)
        if self.result is not None or not self.ready.is_set():
            self.stop()
            said = " ".join(self.lines[-3:]) or (self.result.explanation if self.result else "no output")
            raise ForwardError(f"kubectl port-forward did not start: {said.strip()}")

    def stop(self) -> None:
        self.run.cancel()
        self._thread.join(timeout=5.0)


class SandboxForward:
    """The sandbox's equivalent: its simulated proxy, routing as the Gateway behind the Service would."""

    SYNTHETIC = "port-forward"  # stands in for the Gateway's address in the routing decision

    def __init__(self, client: ClusterClient, namespace: str, service: str, port: int, local: int):
        self.client, self.namespace, self.service, self.port, self.local = client, namespace, service, port, local
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        svc = self.client.get(self.client.resource("v1", "Service"), self.namespace, self.service)
        if svc is None:
            raise ForwardError(f'services "{self.service}" not found in namespace {self.namespace}')
        ep = self.client.get(self.client.resource("v1", "Endpoints"), self.namespace, self.service) or {}
        if not any(s.get("addresses") for s in ep.get("subsets") or []):
            raise ForwardError(f"unable to forward port because no pod behind svc/{self.service} is running and Ready")
        handler = type("ForwardHandler", (_SandboxHandler,), {"forward": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", self.local), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                         name=f"sandbox-forward-{self.local}").start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def world(self):
        """The routing snapshot, read through the API (the sandbox may live in another process)."""
        from tutorial.sandbox.istio.model import World

        def items(api_version: str, kind: str) -> list[dict]:
            return self.client.list(self.client.resource(api_version, kind))[0]

        gw_api = "gateway.networking.k8s.io/v1"
        services = {_key(s): s for s in items("v1", "Service")}
        svc = services.get((self.namespace, self.service)) or {}
        gw_name = ((svc.get("metadata") or {}).get("labels") or {}).get(GATEWAY_NAME_LABEL)
        gateways = [_with_address(g, self.SYNTHETIC) if _key(g) == (self.namespace, gw_name) else g
                    for g in items(gw_api, "Gateway")]
        return World(namespaces={n["metadata"]["name"]: dict(n["metadata"].get("labels") or {})
                                 for n in items("v1", "Namespace")},
                     classes={c["metadata"]["name"]: c for c in items(gw_api, "GatewayClass")},
                     gateways=gateways, routes=items(gw_api, "HTTPRoute"), services=services,
                     endpoints={_key(e): e for e in items("v1", "Endpoints")},
                     grants=_optional(lambda: items("gateway.networking.k8s.io/v1beta1", "ReferenceGrant")),
                     pods=items("v1", "Pod"))


class _SandboxHandler(BaseHTTPRequestHandler):
    """One forwarded request: route it as the simulated Envoy does and answer."""

    forward: SandboxForward
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        from tutorial.sandbox.istio import envoy

        try:
            world = self.forward.world()
        except ClusterError as exc:
            return self._reply(502, "text/plain", f"port-forward: the sandbox API does not answer: {exc}")
        # The same simulated Envoy as the data plane (filters, echo backend).
        request = envoy.Request(self.command, self.path, list(self.headers.items()), port=self.forward.port,
                                client=self.client_address[0])
        envoy.handle(world, SandboxForward.SYNTHETIC, self.forward.port, request).send(self)

    do_HEAD = do_POST = do_GET

    def _reply(self, status: int, ctype: str, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


def _with_address(gateway: dict, address: str) -> dict:
    status = dict(gateway.get("status") or {})
    status["addresses"] = [{"type": "IPAddress", "value": address}]
    return {**gateway, "status": status}


def _optional(read) -> list[dict]:
    try:
        return read()
    except ClusterError:
        return []
