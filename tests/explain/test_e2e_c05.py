"""Failure catalog C05 on the sandbox: an istiod of Istio 1.21 with the Gateway API v1.3.0 CRDs."""

from __future__ import annotations

import pytest

from sandboxlab import Lab, text_of
from tutorial.engine.runner import CommandSpec, run_command
from tutorial.paths import assets_dir


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        lab.stop()


def _helm(lab, *args):
    result = run_command(CommandSpec(argv=["helm", *args], timeout=120), lab.engine.target.run_target())
    assert result.ok, result.stderr


def test_istio_1_21_never_takes_the_gateway_api_and_explain_names_the_version(lab):
    _helm(lab, "repo", "add", "istio", "https://istio-release.storage.googleapis.com/charts")
    _helm(lab, "install", "istio-base", "istio/base", "-n", "istio-system", "--create-namespace", "--version", "1.21.2")
    _helm(lab, "install", "istiod", "istio/istiod", "-n", "istio-system", "--version", "1.21.2", "--wait")
    from tutorial.sandbox.bundles import GATEWAY_API_URL, resolve_url

    lab.kubectl("apply", "-f", str(resolve_url(GATEWAY_API_URL)))
    lab.wait("--for=condition=Established", "crd/grpcroutes.gateway.networking.k8s.io")

    logs = lab.kubectl("logs", "-n", "istio-system", "deploy/istiod").stdout
    assert "failed to list *v1alpha2.GRPCRoute: the server could not find the requested resource" in logs

    # The Gateway gets no status at all: this istiod's Gateway API informers never sync.
    lab.kubectl("create", "namespace", "istio-ingress")
    lab.kubectl("apply", "-f", str(assets_dir() / "gateway-api" / "gateway.yaml"))
    views = lab.explain("gateway/apply-gateway", timeout=1.0)
    assert views, "the Gateway checks passed on an istiod too old for the CRDs"
    text = "\n".join(text_of(v) for v in views)
    assert "1.21" in text and "GRPCRoute" in text and ("1.26" in text or "1.27" in text), text
