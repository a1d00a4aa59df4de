"""LoadBalancer addresses belong to one process: claimed blocks, held ports, honest Gateway status."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import istio_fixtures as fx
import pytest
import yaml
from cluster_fixtures import deployment_yaml, require_kubectl, run_kubectl, service_yaml

from tutorial.sandbox.dataplane import addresses
from tutorial.sandbox.dataplane.addresses import AddressSpace, PortBank

REPO = Path(__file__).resolve().parents[2]


def _linux_loopback() -> bool:
    return not AddressSpace().describe().startswith(addresses.FALLBACK)


def test_two_address_spaces_never_claim_the_same_block():
    if not _linux_loopback():
        pytest.skip("this OS binds only 127.0.0.1; blocks cannot be claimed")
    first, second = AddressSpace(seed=7), AddressSpace(seed=7)  # same seed: same first guess
    first.describe(), second.describe()
    assert first.blocks and second.blocks and set(first.blocks).isdisjoint(second.blocks)
    a = next(first.candidates())
    assert first.owns(a) and not second.owns(a)


def test_a_port_bank_holds_exclusively_and_names_the_holder():
    address = next(addresses.SPACE.candidates())
    one, two = PortBank(), PortBank()
    try:
        assert one.hold(address, 8080) is None
        problem = two.hold(address, 8080)
        assert problem and problem.startswith(f"cannot listen on {address}:8080")
        assert f"(pid {os.getpid()}) holds that port" in problem or "another program" in problem
        assert two.problems[(address, 8080)] == problem
        one.release(address)
        assert two.hold(address, 8080) is None and two.problems == {}
    finally:
        one.close()
        two.close()


def _hold_in_subprocess(address: str, port: int) -> subprocess.Popen:
    """Another program listening on address:port (it prints "ready" once it does)."""
    code = ("import socket,sys,time; s=socket.socket(); s.bind((sys.argv[1], int(sys.argv[2]))); s.listen();"
            "print('ready', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, address, str(port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _gateway_up(blog) -> None:
    blog.tool("istioctl install --set profile=minimal -y")
    blog.kubectl("create", "namespace", "istio-ingress")
    blog.install_crds()
    blog.apply(fx.GATEWAY_YAML)
    blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")


def test_an_address_another_program_holds_is_never_published(tmp_path):
    preferred = next(addresses.SPACE.candidates())
    holder = _hold_in_subprocess(preferred, 8080)
    from cluster_fixtures import start_sandbox

    blog = fx.Blog(start_sandbox(tmp_path, lb_address=preferred), tmp_path)
    try:
        _gateway_up(blog)
        assert blog.address != preferred  # the load balancer moved on to an address it could hold
        gw = blog.get("gateway", "emojivoto", "istio-ingress")
        assert gw["status"]["addresses"] == [{"type": "IPAddress", "value": blog.address}]
        assert blog.http("/")[0] == 404  # our own data plane answers (no route yet)
    finally:
        holder.kill()
        blog.stop()


def test_a_port_that_cannot_be_had_makes_the_gateway_not_programmed(tmp_path):
    blog = fx.start_blog(tmp_path)
    holder = None
    try:
        _gateway_up(blog)
        holder = _hold_in_subprocess(blog.address, 9090)
        gw = yaml.safe_load(fx.GATEWAY_YAML)
        gw["spec"]["listeners"].append({"name": "other", "port": 9090, "protocol": "HTTP"})
        blog.apply(yaml.safe_dump(gw))
        blog.wait("--for=condition=programmed=false", "gtw/emojivoto", "-n", "istio-ingress")
        status, reason, message = fx.condition(blog.get("gateway", "emojivoto", "istio-ingress")["status"],
                                               "Programmed")
        assert (status, reason) == ("False", "AddressNotUsable")
        assert message.startswith("Assigned to service(s) ") or message.startswith("Failed to assign")
        assert f"cannot listen on {blog.address}:9090" in message
        assert f"(pid {holder.pid}) holds that port" in message  # the other program, named
        events = blog.kubectl("get", "events", "-n", "istio-ingress",
                              "--field-selector", "reason=SyncLoadBalancerFailed").stdout
        assert f"{blog.address}:9090" in events
        _doctor_names(blog, holder.pid)
        _explain_names(blog, holder.pid)
        holder.kill()
        holder.wait()
        blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")
        assert blog.http("/", port=9090)[0] == 404
    finally:
        if holder:
            holder.kill()
        blog.stop()


def _doctor_names(blog, pid: int) -> None:
    """doctor's finding names the other program."""
    from tutorial.cluster.client import ClusterClient
    from tutorial.engine.preflight_gateways import held_port_findings

    client = ClusterClient(str(blog.sb.kubeconfig), "sandbox")
    try:
        [finding] = held_port_findings(client)
    finally:
        client.close()
    assert finding.severity == "warn" and f"(pid {pid})" in finding.found and f"{blog.address}:9090" in finding.found


def _explain_names(blog, pid: int) -> None:
    """explain's rule for this condition names it too."""
    from tutorial.engine.explain import explain_evidence

    status = blog.get("gateway", "emojivoto", "istio-ingress")["status"]
    gw = {"name": "emojivoto", "namespace": "istio-ingress", "found": True, "class": "istio", "annotations": {},
          "conditions": status["conditions"], "addresses": [blog.address], "listeners": status["listeners"]}
    evidence = {"check": {"id": "gateway-programmed", "kind": "gateway_programmed", "passed": False,
                          "observed": "Programmed=False"},
                "params": {"name": "emojivoto", "namespace": "istio-ingress"},
                "object": {"kind": "Gateway", "name": "emojivoto", "namespace": "istio-ingress", "found": True},
                "conditions": status["conditions"], "gateway": gw, "pods": [],
                "service": {"name": "emojivoto-istio", "namespace": "istio-ingress", "type": "LoadBalancer",
                            "external": [blog.address], "ports": [15021, 8080, 9090]},
                "cluster": {"flavor": "sandbox", "context": "sandbox"}}
    view = explain_evidence(evidence)
    assert view.rule_id == "sandbox-port-held-by-another-program", view.rule_id
    assert f"(pid {pid})" in view.title


# ---- two `sandbox serve` processes and an embedded sandbox at once ----

ROUTE = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: app, namespace: istio-ingress}}
spec:
  parentRefs: [{{name: emojivoto}}]
  rules: [{{backendRefs: [{{name: {svc}, port: 80}}]}}]
"""
GATEWAY_ALL = fx.GATEWAY_YAML.replace("from: Selector", "from: All").split("        selector:")[0]


def _serve(tmp: Path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / f"state-{name}"), "COLUMNS": "200"}
    kc = tmp / f"kc-{name}"
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", "--clusters", "2",
                             "--context-name", name, "--kubeconfig-out", str(kc)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "Press Ctrl-C to stop." in line:
            return proc, kc
    raise AssertionError(f"sandbox serve {name} ended early ({proc.wait(10)})")


def _build(tmp: Path, kc: Path, context: str) -> str:
    """Istio, a Gateway and a route to a Service named after the context; returns the Gateway's address."""
    from tutorial.sandbox.simtools import bin_dir

    home = tmp / f"home-{context}"
    home.mkdir(exist_ok=True)
    svc = f"web-{context}"

    def kubectl(*args: str, input: str | None = None) -> str:
        return run_kubectl(home, kc, "--context", context, *args, input=input).stdout

    env = {"HOME": str(home), "PATH": f"{bin_dir(tmp / 'bin')}:/usr/bin:/bin", "KUBECONFIG": str(kc),
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    subprocess.run(["istioctl", "install", "--context", context, "--set", "profile=minimal", "-y"],
                   env=env, check=True, capture_output=True, timeout=120)
    from tutorial.sandbox.bundles import GATEWAY_API_URL, resolve_url

    kubectl("apply", "-f", str(resolve_url(GATEWAY_API_URL)))
    kubectl("create", "namespace", "istio-ingress")
    kubectl("apply", "-f", "-", input=deployment_yaml(svc, ns="istio-ingress") + "---\n"
            + service_yaml(svc, ns="istio-ingress") + "---\n" + GATEWAY_ALL + "---\n" + ROUTE.format(svc=svc))
    kubectl("wait", "--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress", "--timeout=60s")
    kubectl("wait", "--for=condition=Available", f"deploy/{svc}", "-n", "istio-ingress", "--timeout=60s")
    gw = json.loads(kubectl("get", "gtw", "emojivoto", "-n", "istio-ingress", "-o", "json"))
    return gw["status"]["addresses"][0]["value"]


def _answer(address: str) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}:8080/", timeout=10) as resp:
                return resp.read().decode()
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_serve_processes_and_an_embedded_sandbox_each_answer_for_their_own_clusters(tmp_path):
    require_kubectl()
    from cluster_fixtures import fast_settings

    from tutorial.sandbox.embedded import acquire_embedded

    procs, targets = [], []
    embedded = acquire_embedded(tmp_path / "embedded", settings=fast_settings())
    try:
        for name in ("one", "two"):
            proc, kc = _serve(tmp_path, name)
            procs.append(proc)
            targets += [(kc, f"{name}{i:02d}") for i in (1, 2)]
        targets.append((embedded.kubeconfig, embedded.context))
        found = {context: _build(tmp_path, kc, context) for kc, context in targets}
        assert len(set(found.values())) == len(found), found  # five clusters, five addresses
        for context, address in found.items():
            echoed = json.loads(_answer(address))  # the echo backend says which pod served it
            assert echoed["namespace"] == "istio-ingress" and echoed["pod"].startswith(f"web-{context}-"), context
    finally:
        for proc in procs:
            proc.send_signal(2)
        for proc in procs:
            proc.wait(30)
        embedded.release()


def test_a_held_port_no_listener_serves_resets_at_once(tmp_path):
    """A TCP listener (not programmed without Istio's alpha flag) gets a Service port, so the port is
    held; nothing serves it, and a client is reset at once instead of waiting in the backlog."""
    blog = fx.start_blog(tmp_path)
    try:
        blog.tool("istioctl install --set profile=minimal -y")
        blog.kubectl("create", "namespace", "istio-ingress")
        blog.install_crds()
        gw = yaml.safe_load(fx.GATEWAY_YAML)
        gw["spec"]["listeners"].append({"name": "tcp", "port": 9000, "protocol": "TCP"})
        blog.apply(yaml.safe_dump(gw))
        blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")
        listener = next(lst for lst in blog.get("gateway", "emojivoto", "istio-ingress")["status"]["listeners"]
                        if lst["name"] == "tcp")
        assert fx.condition(listener, "Accepted")[:2] == ("False", "UnsupportedProtocol")
        try:  # a client left waiting would get TimeoutError instead
            with socket.create_connection((blog.address, 9000), timeout=10) as sock:
                sock.sendall(b"hello")
                data = sock.recv(10)
        except ConnectionResetError:
            data = b""
        assert data == b""  # closed by a reset
    finally:
        blog.stop()
