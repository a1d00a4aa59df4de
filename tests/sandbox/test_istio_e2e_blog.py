"""The blog end to end on a sandbox: real kubectl, the simulated helm/istioctl, HTTP through the Gateway."""

from __future__ import annotations

import istio_fixtures as fx
import pytest

from tutorial.sandbox.istio.model import ISTIO_VERSION

HELM_STEPS = [
    "helm repo add istio https://istio-release.storage.googleapis.com/charts",
    "helm repo update",
    "helm install istio-base istio/base -n istio-system --set defaultRevision=default --create-namespace",
    "helm upgrade --install istiod istio/istiod -n istio-system",
    "helm upgrade --install istio-ingress istio/gateway -n istio-ingress --create-namespace",
]
MISSING_ANNOTATION = ("Warning: resource gatewayclasses/istio is missing the "
                      "kubectl.kubernetes.io/last-applied-configuration annotation")


@pytest.fixture
def blog(tmp_path):
    b = fx.start_blog(tmp_path)
    yield b
    b.stop()


def _apply_blog_gateway_api(blog: fx.Blog) -> None:
    blog.install_crds()
    gc = blog.apply(fx.GATEWAYCLASS_YAML)
    # istiod created the class as soon as the CRDs appeared (FACTS G01): "configured" plus a warning.
    assert "gatewayclass.gateway.networking.k8s.io/istio configured" in gc.stdout
    assert MISSING_ANNOTATION in gc.stderr
    blog.apply(fx.GATEWAY_YAML)
    blog.apply(fx.HTTPROUTE_YAML)
    blog.wait("--for=condition=programmed", "gtw/emojivoto", "-n", "istio-ingress")


def _assert_blog_outcome(blog: fx.Blog) -> None:
    gc = blog.get("gatewayclass", "istio")
    assert fx.condition(gc["status"], "Accepted") == ("True", "Accepted", "Handled by Istio controller")
    gw = blog.get("gateway", "emojivoto", "istio-ingress")["status"]
    assert fx.condition(gw, "Accepted") == ("True", "Accepted", "Resource accepted")
    assert fx.condition(gw, "Programmed") == (
        "True", "Programmed", f"Resource programmed, assigned to service(s) {fx.FQDN}:8080")
    assert gw["addresses"] == [{"type": "IPAddress", "value": blog.address}]
    assert gw["listeners"][0]["attachedRoutes"] == 1
    assert fx.condition(gw["listeners"][0], "Accepted")[0] == "True"
    (parent,) = blog.get("httproute", "emojivoto", "emojivoto")["status"]["parents"]
    assert fx.condition(parent, "Accepted") == ("True", "Accepted", "Route was valid")
    assert fx.condition(parent, "ResolvedRefs") == ("True", "ResolvedRefs", "All references resolved")
    table = blog.kubectl("get", "gateway", "-n", "istio-ingress").stdout
    assert table.split("\n")[1].split()[:4] == ["emojivoto", "istio", blog.address, "True"]
    status, headers, body = blog.http("/")
    assert status == 200 and "<title>Emoji Vote</title>" in body
    assert headers["server"] == "istio-envoy"
    # E04: voting for the doughnut fails on purpose; other emoji vote fine.
    assert blog.http("/api/vote?choice=:doughnut:")[0] == 500
    assert blog.http("/api/vote?choice=:joy:")[0] == 200
    # A01: only the listener port answers; port 80 on the Gateway address is refused.
    with pytest.raises(OSError):
        blog.http("/", port=80)


def test_blog_helm_path(blog):
    blog.install_emojivoto()
    outputs = [blog.tool(step) for step in HELM_STEPS]
    assert all("(simulated helm for the gateway-tutorial sandbox)" in o.stderr for o in outputs)
    assert '"istio" has been added to your repositories' in outputs[0].stdout
    assert "STATUS: deployed" in outputs[2].stdout
    assert 'Release "istiod" does not exist. Installing it now.' in outputs[3].stdout
    blog.wait("--for=condition=Available", "deploy/istio-ingress", "-n", "istio-ingress")
    _apply_blog_gateway_api(blog)
    _assert_blog_outcome(blog)
    pods = blog.kubectl("get", "pods", "-n", "istio-ingress", "-l", "app=istio-ingress").stdout
    assert "1/1" in pods and "Running" in pods
    _assert_i04_chart_service_is_not_the_gateway(blog)
    listing = blog.tool("helm list -A").stdout
    assert [line.split()[0] for line in listing.splitlines()[1:]] == ["istio-base", "istio-ingress", "istiod"]
    secrets = blog.kubectl("get", "secrets", "-n", "istio-system", "--field-selector",
                           "type=helm.sh/release.v1", "-o", "name").stdout.split()
    assert sorted(secrets) == ["secret/sh.helm.release.v1.istio-base.v1", "secret/sh.helm.release.v1.istiod.v1"]
    crd = blog.kubectl("get", "crd", "virtualservices.networking.istio.io", "-o", "name").stdout
    assert crd.strip() == "customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io"


def _assert_i04_chart_service_is_not_the_gateway(blog: fx.Blog) -> None:
    """I04: the istio/gateway chart's Service has its own address, and port 8080 there is refused."""
    import urllib.error
    import urllib.request

    chart = blog.get("service", "istio-ingress", "istio-ingress")["status"]["loadBalancer"]["ingress"][0]["ip"]
    gateway = blog.get("gateway", "emojivoto", "istio-ingress")["status"]["addresses"][0]["value"]
    assert chart != gateway
    with pytest.raises(urllib.error.URLError) as refused:
        urllib.request.urlopen(f"http://{chart}:8080/", timeout=3)
    assert "refused" in str(refused.value).lower()


def test_blog_istioctl_path(blog):
    blog.install_emojivoto()
    out = blog.tool("istioctl install --set profile=minimal -y")
    assert ["\u2714 Istio core installed \u26f5\ufe0f", "\u2714 Istiod installed \U0001f9e0",
            "\u2714 Installation complete"] == [line for line in out.stdout.splitlines() if line.startswith("\u2714")]
    assert blog.tool("istioctl version").stdout.splitlines()[:2] == [
        f"client version: {ISTIO_VERSION}", f"control plane version: {ISTIO_VERSION}"]
    blog.install_crds()
    # I05: the minimal profile creates no istio-ingress namespace.
    missing = blog.apply(fx.GATEWAY_YAML, check=False)
    assert 'namespaces "istio-ingress" not found' in missing.stderr
    blog.kubectl("create", "namespace", "istio-ingress")
    _apply_blog_gateway_api(blog)
    _assert_blog_outcome(blog)
    analyze = blog.tool("istioctl analyze -n emojivoto")
    assert "\u2714 No validation issues found when analyzing namespace: emojivoto." in analyze.stdout


def test_c01_gateway_before_crds(blog):
    """C01: before standard-install.yaml the Gateway API kinds are unknown to kubectl."""
    check = blog.kubectl("get", "crd", "gateways.gateway.networking.k8s.io", check=False)
    assert ('customresourcedefinitions.apiextensions.k8s.io "gateways.gateway.networking.k8s.io" not found'
            in check.stderr)
    fx.assert_no_kind_mapping(blog.apply(fx.GATEWAY_YAML, check=False), "Gateway", "v1")


def test_istioctl_uninstall_purge_removes_istiod(blog):
    blog.tool("istioctl install --set profile=default -y")
    assert blog.kubectl("get", "svc", "istio-ingressgateway", "-n", "istio-system", "-o", "name").stdout.strip()
    out = blog.tool("istioctl uninstall --purge -y")
    assert "  Removed Deployment:istio-system:istiod." in out.stdout
    assert "\u2714 Uninstall complete" in out.stdout
    gone = blog.kubectl("get", "deploy", "istiod", "-n", "istio-system", check=False)
    assert 'deployments.apps "istiod" not found' in gone.stderr
    refused = blog.tool("istioctl uninstall -y", check=False)
    assert refused.returncode == 1 and "--purge flags must be set" in refused.stderr
