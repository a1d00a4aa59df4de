"""Install-time scenarios: no LoadBalancer (G05, I02), the gateway chart before istiod (I01), istiod Pending."""

from __future__ import annotations

import istio_fixtures as fx
import pytest

REPO_ADD = "helm repo add istio https://istio-release.storage.googleapis.com/charts"
PULL_AUTO = ('Failed to pull image "auto": rpc error: code = Unknown desc = failed to pull and unpack image '
             '"docker.io/library/auto:latest": failed to resolve reference "docker.io/library/auto:latest": '
             "pull access denied, repository does not exist or may require authorization")


@pytest.fixture
def make_blog(tmp_path):
    started = []

    def make(faults=None) -> fx.Blog:
        blog = fx.start_blog(tmp_path / f"c{len(started)}", faults=faults)
        started.append(blog)
        return blog
    yield make
    for blog in started:
        blog.stop()


def test_no_lb_helm_wait_fails_and_gateway_has_no_address(make_blog):
    blog = make_blog(faults=["no-lb"])
    blog.tool(REPO_ADD)
    blog.tool("helm install istio-base istio/base -n istio-system --create-namespace")
    blog.tool("helm install istiod istio/istiod -n istio-system --wait --timeout 30s")
    # I02: --wait treats a LoadBalancer Service without ingress as not ready.
    failed = blog.tool("helm install istio-ingress istio/gateway -n istio-ingress --create-namespace "
                       "--wait --timeout 2s", check=False)
    assert failed.returncode == 1
    assert "Error: INSTALLATION FAILED: context deadline exceeded" in failed.stderr
    svc = blog.kubectl("get", "svc", "-n", "istio-ingress", "istio-ingress", "--no-headers").stdout.split()
    assert svc[1:4] == ["LoadBalancer", svc[2], "<pending>"]
    assert "failed" in blog.tool("helm list -n istio-ingress").stdout
    # G05: the auto-provisioned Service stays pending too, so the Gateway gets no address.
    blog.install_crds()
    for text in (fx.GATEWAY_YAML,):
        blog.apply(text)
    blog.wait("gtw/emojivoto", "-n", "istio-ingress",
              "--for=jsonpath={.status.conditions[?(@.type==\"Programmed\")].reason}=AddressNotAssigned")
    status = blog.get("gateway", "emojivoto", "istio-ingress")["status"]
    assert fx.condition(status, "Programmed") == (
        "False", "AddressNotAssigned",
        f"Assigned to service(s) {fx.FQDN}:8080, but failed to assign to all requested addresses: "
        f'address pending for hostname "{fx.FQDN}"')
    assert "addresses" not in status
    row = blog.kubectl("get", "gtw", "-n", "istio-ingress", "--no-headers").stdout.split()
    assert row[:3] == ["emojivoto", "istio", "False"]
    assert fx.condition(status["listeners"][0], "Accepted")[0] == "True"


def test_i01_gateway_chart_before_istiod_pulls_image_auto(make_blog):
    blog = make_blog()
    blog.tool(REPO_ADD)
    blog.tool("helm install istio-ingress istio/gateway -n istio-ingress --create-namespace")
    blog.wait("pod", "-l", "app=istio-ingress", "-n", "istio-ingress",
              "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff")
    events = blog.kubectl("get", "events", "-n", "istio-ingress").stdout
    assert PULL_AUTO in events
    # The fix: istiod first, then re-create the stuck pods so the injector fills in the image.
    blog.tool("helm install istio-base istio/base -n istio-system --create-namespace")
    blog.tool("helm install istiod istio/istiod -n istio-system --wait")
    blog.kubectl("delete", "pod", "-l", "app=istio-ingress", "-n", "istio-ingress")
    blog.wait("--for=condition=Available", "deploy/istio-ingress", "-n", "istio-ingress")
    image = blog.kubectl("get", "pod", "-l", "app=istio-ingress", "-n", "istio-ingress",
                         "-o", "jsonpath={.items[0].spec.containers[0].image}").stdout
    assert image.startswith("docker.io/istio/proxyv2:1.27.")


def test_istiod_unschedulable_istioctl_fails_and_gateway_api_stays_idle(make_blog):
    blog = make_blog(faults=["istiod-unschedulable"])
    out = blog.tool("istioctl install --set profile=minimal -y --readiness-timeout 2s", check=False)
    assert out.returncode == 1
    assert "\u2714 Istio core installed" in out.stdout
    assert "\u2718 Istiod encountered an error: failed to wait for resource" in out.stdout
    assert "Error: failed to install manifests: errors occurred during operation" in out.stderr
    pending = blog.kubectl("get", "pods", "-n", "istio-system", "-l", "app=istiod", "--no-headers").stdout
    assert "Pending" in pending
    blog.install_crds()
    assert blog.kubectl("get", "gatewayclass").stderr.strip() == "No resources found"
