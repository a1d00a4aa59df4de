"""How ClusterClient loads credentials: static tokens need no per-request refresh, expiring ones
are still refreshed (exec plugins), all against a real sandbox API server over HTTPS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tutorial.cluster.client import ClusterClient, ClusterError, load_configuration
from tutorial.instructor.kubeapi import Kube
from tutorial.sandbox import kubeconfig
from tutorial.sandbox.cluster import SandboxCluster

PLUGIN = """\
import json, sys
from pathlib import Path
calls = Path(sys.argv[1])
calls.write_text(str(int(calls.read_text() or "0") + 1) if calls.exists() else "1")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential",
                  "status": {"token": "from-plugin", "expirationTimestamp": sys.argv[2]}}))
"""


@pytest.fixture
def cluster(request):
    """A sandbox whose bearer token is the one the test's credentials produce (it requires one)."""
    c = SandboxCluster("auth", token=getattr(request, "param", "static")).start()
    yield c
    c.stop()


def _kubeconfig(path: Path, server: str, user: dict) -> Path:
    import base64

    ca = base64.b64encode(kubeconfig.ca_for(server).encode()).decode()
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": ca}}],
           "users": [{"name": "u", "user": user}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path.write_text(json.dumps(doc))
    return path


def _exec_user(tmp_path: Path, expires: str) -> tuple[dict, Path]:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    calls = tmp_path / "calls"
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                     "args": [str(script), str(calls), expires], "interactiveMode": "Never"}}, calls


def test_static_token_has_no_refresh_hook_and_works(cluster, tmp_path):
    kc = _kubeconfig(tmp_path / "kc", cluster.url, {"token": "static"})
    client = ClusterClient(str(kc), "c")
    try:
        assert client.api.configuration.refresh_api_key_hook is None
        assert client.api.configuration.api_key["BearerToken"] == "Bearer static"
        status, doc = Kube(client).request("GET", "/version")
        assert status == 200 and doc.get("gitVersion")
    finally:
        client.close()


@pytest.mark.parametrize("cluster", ["from-plugin"], indirect=True)
def test_expiring_exec_token_is_still_refreshed(cluster, tmp_path):
    user, calls = _exec_user(tmp_path, "2000-01-01T00:00:00Z")  # always expired: refreshed every time
    kc = _kubeconfig(tmp_path / "kc", cluster.url, user)
    client = ClusterClient(str(kc), "c")
    try:
        assert client.api.configuration.refresh_api_key_hook is not None
        kube = Kube(client)
        before = int(calls.read_text())
        for _ in range(2):
            assert kube.request("GET", "/version")[0] == 200
        assert int(calls.read_text()) >= before + 2
    finally:
        client.close()


def test_token_valid_for_an_hour_keeps_its_hook(cluster, tmp_path):
    user, calls = _exec_user(tmp_path, "2999-01-01T00:00:00Z")
    configuration = load_configuration(str(_kubeconfig(tmp_path / "kc", cluster.url, user)), "c")
    assert configuration.refresh_api_key_hook is not None
    assert configuration.api_key["BearerToken"] == "Bearer from-plugin"
    assert calls.read_text() == "1"


def test_kubeconfig_list_and_missing_context(cluster, tmp_path, monkeypatch):
    first = _kubeconfig(tmp_path / "a", cluster.url, {"token": "a"})
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}")
    assert load_configuration(None, "c").host == cluster.url
    with pytest.raises(ClusterError, match="cannot load kubeconfig"):
        ClusterClient(None, "nope").api
