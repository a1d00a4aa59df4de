"""ClusterClient discovery: checks asking about one API group at the same moment share one request;
a group the cluster does not serve is asked about again later (its CRDs may have come since).

Requests are counted through the api-latency fault's sleep (every request waits once), which also
keeps the first request in flight while the others arrive. Against a real sandbox over HTTPS.
"""

from __future__ import annotations

import random
import threading
import time

import shutil
import subprocess

import pytest

from tutorial.cluster.client import ClusterClient, ClusterError
from tutorial.sandbox.bundles import gateway_api
from tutorial.sandbox.cluster import SandboxCluster
from tutorial.sandbox.faults import FaultSet

GATEWAY = ("gateway.networking.k8s.io/v1", "Gateway")
ASKERS = 8


class Counter(list):
    """time.sleep for the fault that remembers each request it delays."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def slow(tmp_path):
    counted = Counter()
    faults = FaultSet(rng=random.Random(1), sleep=counted)
    cluster = SandboxCluster("disc", faults=faults).start()
    kubeconfig = cluster.write_kubeconfig(tmp_path / "kubeconfig", context="disc")
    yield cluster, kubeconfig, faults, counted
    cluster.stop()


def _all_at_once(client: ClusterClient) -> list:
    """ASKERS threads ask for the Gateway kind together; each one's ResourceRef or ClusterError."""
    start, out = threading.Barrier(ASKERS), [None] * ASKERS

    def ask(i: int) -> None:
        start.wait()
        try:
            out[i] = client.resource(*GATEWAY)
        except ClusterError as exc:
            out[i] = exc
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(ASKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_askers_share_one_request_and_a_missing_group_is_asked_again(slow, tmp_path):
    _, kubeconfig, faults, counted = slow
    client = ClusterClient(str(kubeconfig), "disc")
    client.resource("v1", "ConfigMap")  # built in: no request; load the configuration first
    faults.enable("api-latency", delay="300ms", jitter="0")

    missing = _all_at_once(client)
    assert all(isinstance(e, ClusterError) and e.status == 404 for e in missing), missing
    assert "does not serve gateway.networking.k8s.io/v1" in str(missing[0])
    assert len({id(e) for e in missing}) == ASKERS  # each thread raised its own exception
    asked = len(counted)
    assert 1 <= asked <= 2, f"{asked} discovery requests for {ASKERS} simultaneous askers"

    faults.disable("api-latency")
    _apply(kubeconfig, tmp_path, gateway_api.text())
    faults.enable("api-latency", delay="300ms", jitter="0")
    counted.clear()
    found = _all_at_once(client)  # not remembered as missing: asked again, and found
    assert all(getattr(r, "plural", None) == "gateways" and r.namespaced for r in found), found
    assert 1 <= len(counted) <= 2
    client.close()


def _apply(kubeconfig, tmp_path, manifest: str) -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed; the CRDs are applied with the real kubectl")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin:/usr/local/bin", "KUBECONFIG": str(kubeconfig)}
    proc = subprocess.run(["kubectl", "apply", "--server-side", "-f", "-"], input=manifest, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
