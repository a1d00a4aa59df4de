"""The simulated helm and istioctl: wrapper scripts, releases, errors like the real tools."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import istio_fixtures as fx
import pytest

from tutorial.sandbox.simtools import bin_dir, releases

REPO_ADD = "helm repo add istio https://istio-release.storage.googleapis.com/charts"


def test_bin_dir_writes_executable_wrappers_and_refreshes_stale_ones(tmp_path):
    path = bin_dir(tmp_path / "bin")
    for tool in ("helm", "istioctl"):
        assert os.access(path / tool, os.X_OK)
    (path / "helm").write_text("#!/bin/sh\necho stale\n")
    bin_dir(tmp_path / "bin")
    out = subprocess.run([str(path / "helm"), "version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith('version.BuildInfo{Version:"v3.')
    assert out.stderr.startswith("(simulated helm for the gateway-tutorial sandbox)")


def test_release_record_round_trips_like_helm():
    rec = releases.new_record("istiod", "istio-system", "istiod", "1.27.1", {}, [{"kind": "Service",
                              "metadata": {"name": "istiod"}}], 1, "notes")
    assert releases.decode(releases.encode(rec)) == rec
    assert releases.manifest_objects(rec) == [{"kind": "Service", "metadata": {"name": "istiod"}}]
    assert releases.secret_name("istiod", 3) == "sh.helm.release.v1.istiod.v3"


@pytest.fixture(scope="module")
def blog(tmp_path_factory):
    b = fx.start_blog(tmp_path_factory.mktemp("simtools"))
    yield b
    b.stop()


def test_unknown_commands_and_missing_repos_fail_like_helm(blog):
    bad = blog.tool("helm frobnicate", check=False)
    assert bad.returncode == 1
    assert 'Error: unknown command "frobnicate" for "helm"' in bad.stderr
    bad = blog.tool("istioctl frobnicate", check=False)
    assert (bad.returncode, 'Error: unknown command "frobnicate" for "istioctl"' in bad.stderr) == (1, True)
    assert "Error: no repositories found" in blog.tool("helm repo update", check=False).stderr
    missing = blog.tool("helm install istiod istio/istiod -n istio-system", check=False)
    assert "Error: INSTALLATION FAILED: repo istio not found" in missing.stderr
    blog.tool(REPO_ADD)
    again = blog.tool(REPO_ADD)
    assert '"istio" already exists with the same configuration, skipping' in again.stdout
    nochart = blog.tool("helm install x istio/nope -n default", check=False)
    assert 'chart "nope" matching  not found in istio index' in nochart.stderr
    nons = blog.tool("helm install istio-base istio/base -n nowhere", check=False)
    assert 'Error: INSTALLATION FAILED: create: failed to create: namespaces "nowhere" not found' in nons.stderr


def test_install_upgrade_status_uninstall(blog):
    blog.tool(REPO_ADD)
    blog.tool("helm install ingress istio/gateway -n gw --create-namespace --set service.type=ClusterIP")
    taken = blog.tool("helm install ingress istio/gateway -n gw", check=False)
    assert "Error: INSTALLATION FAILED: cannot re-use a name that is still in use" in taken.stderr
    svc = blog.get("service", "ingress", "gw")
    assert svc["spec"]["type"] == "ClusterIP"
    assert [p["port"] for p in svc["spec"]["ports"]] == [15021, 80, 443]
    assert svc["spec"]["selector"] == {"app": "ingress", "istio": "ingress"}
    up = blog.tool("helm upgrade --install ingress istio/gateway -n gw")
    assert 'Release "ingress" has been upgraded. Happy Helming!' in up.stdout and "REVISION: 2" in up.stdout
    assert blog.get("service", "ingress", "gw")["spec"]["type"] == "LoadBalancer"
    labels = json.loads(blog.kubectl("get", "secrets", "-n", "gw", "-l", "owner=helm", "-o", "json").stdout)
    states = sorted((s["metadata"]["name"], s["metadata"]["labels"]["status"]) for s in labels["items"])
    assert states == [("sh.helm.release.v1.ingress.v1", "superseded"), ("sh.helm.release.v1.ingress.v2", "deployed")]
    assert "STATUS: deployed" in blog.tool("helm status ingress -n gw").stdout
    out = blog.tool("helm uninstall ingress -n gw")
    assert 'release "ingress" uninstalled' in out.stdout
    assert blog.kubectl("get", "deploy", "ingress", "-n", "gw", check=False).returncode != 0
    assert blog.kubectl("get", "secrets", "-n", "gw", "-l", "owner=helm", "-o", "name").stdout.strip() == ""
    assert blog.tool("helm list -n gw").stdout.split() == ["NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS",
                                                         "CHART", "APP", "VERSION"]


def test_istioctl_version_and_analyze_without_istio(blog):
    assert blog.tool("istioctl version --remote=false").stdout.strip() == "client version: 1.27.1"
    out = blog.tool("istioctl version").stdout
    assert out.startswith('Istio is not present in the cluster: no running Istio pods in namespace "istio-system"')
    assert "\u2714 No validation issues found when analyzing namespace: default." in blog.tool("istioctl analyze").stdout


def test_tools_name_the_kubeconfig_problem(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir(tmp_path / 'bin')}:/usr/bin:/bin",
           "KUBECONFIG": str(tmp_path / "nope"), "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run(["helm", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "no kubeconfig found" in out.stderr


def test_analyze_reports_gateway_api_findings():
    from tutorial.sandbox.simtools import analyze

    gw = fx.gateway()
    del gw["spec"]["listeners"][0]["allowedRoutes"]
    world = fx.blog_world(gw=gw)
    (finding,) = analyze._route_findings(world, world.routes[0])
    assert finding == ("Warning", "SIM0001", "(HTTPRoute emojivoto/emojivoto) Route not accepted by Gateway "
                       "istio-ingress/emojivoto: NotAllowedByListeners: hostnames matched parent hostname \"\", "
                       'but namespace "emojivoto" is not allowed by the parent')
    world = fx.blog_world(lb_ip=None)
    world.gateways[0]["status"] = {"conditions": [{"type": "Programmed", "status": "False",
                                                   "reason": "AddressNotAssigned", "message": "pending"}]}
    assert analyze._gateway_findings(world, world.gateways[0]) == [
        ("Warning", "SIM0002", "(Gateway istio-ingress/emojivoto) Gateway not programmed: AddressNotAssigned: pending")]
    world = fx.blog_world(gw=fx.gateway(gatewayClassName="istio-gateway"))
    assert analyze._gateway_findings(world, world.gateways[0])[0][:2] == ("Error", "IST0101")


def test_global_flags_work_before_and_after_the_subcommand(blog):
    """Real helm takes --kube-context, --kubeconfig and -n anywhere; so does the simulated one."""
    context = "sandbox-ctx"
    blog.sb.kubectl("config", "rename-context", blog.sb.kubectl("config", "current-context").stdout.strip(), context)
    added = blog.tool(f"helm --kube-context {context} repo add istio https://istio-release.storage.googleapis.com/charts")
    assert added.returncode == 0 and '"istio"' in added.stdout
    blog.tool(f"helm -n gw --kube-context {context} install ingress istio/gateway --create-namespace "
              "--set service.type=ClusterIP")
    assert blog.get("service", "ingress", "gw")["spec"]["type"] == "ClusterIP"
    listing = blog.tool(f"helm list -n gw --kube-context {context}").stdout
    assert listing.splitlines()[1].split()[:2] == ["ingress", "gw"]
    wrong = blog.tool("helm --kube-context no-such-context list -n gw", check=False)
    assert wrong.returncode != 0


def _kube_for(api):
    from tutorial.sandbox.simtools.kube import Kube

    return Kube({"server": api.url, "token": api.token, "namespace": "default",
                 "ca_data": base64.b64encode(api.ca_pem.encode()).decode()})


def test_the_tools_client_keeps_one_connection_and_reopens_one_the_server_closed(api):
    """One TLS connection for all of a tool's requests; a kept connection the server has closed
    meanwhile (its idle timeout) is reopened for a GET, not reported as an unreachable cluster."""
    import socket

    from tutorial.sandbox.simtools.kube import KubeError

    kube = _kube_for(api)
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept", "namespace": "default"}})
    first = kube._conn.sock
    assert kube.get("ConfigMap", "default", "kept")["metadata"]["name"] == "kept"
    assert kube._conn.sock is first  # create, get and get again went over one connection
    with api.server._conn_lock:
        for conn in list(api.server._connections):
            conn.shutdown(socket.SHUT_RDWR)  # the server hangs up, as at its idle timeout
    assert kube.get("ConfigMap", "default", "kept")["metadata"]["name"] == "kept"
    assert kube._conn.sock is not first
    with pytest.raises(KubeError) as err:
        kube.request("GET", "/api/v1/namespaces/default/configmaps/missing")
    assert (err.value.code, err.value.reason) == (404, "NotFound") and "missing" in err.value.message
