"""doctor's judgements from what clusters show: kinds, load balancers, Istio/CRD pairing, rights."""

from __future__ import annotations

import pytest

from tutorial.engine.portforward import LoadBalancerEvidence
from tutorial.engine.preflight import cluster_kind, crd_version_finding, pairing_finding, version_skew
from tutorial.engine.safety import PERMISSIONS, rbac_findings


def node(name="n1", labels=None, provider="", kubelet="v1.32.2"):
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"providerID": provider} if provider else {},
            "status": {"nodeInfo": {"kubeletVersion": kubelet}}}


@pytest.mark.parametrize("nodes,context,kind", [
    ([node("sandbox-control-plane", {"gateway-tutorial.dev/sandbox": "true"})], "sandbox", "sandbox"),
    ([node("kind-control-plane", provider="kind://docker/kind/kind-control-plane")], "kind-kind", "kind"),
    ([node("lab-control-plane")], "lab", "kind"),
    ([node("minikube", {"minikube.k8s.io/name": "minikube"})], "minikube", "minikube"),
    ([node("k3d-dev-server-0", kubelet="v1.31.5+k3s1")], "k3d-dev", "k3d"),
    ([node("raspi", kubelet="v1.31.5+k3s1")], "default", "k3s"),
    ([node("docker-desktop")], "docker-desktop", "docker-desktop"),
    ([node("ip-10-0-1-2.ec2.internal", provider="aws:///eu-west-1a/i-0abc")], "arn:aws:eks:x", "eks"),
    ([node("gke-c-default-pool-1", {"cloud.google.com/gke-nodepool": "default-pool"})], "gke_p_z_c", "gke"),
    ([node("aks-nodepool1-1", provider="azure:///subscriptions/x")], "aks", "aks"),
    ([node("pool-abc", provider="digitalocean://123")], "do-fra1", "doks"),
    ([node("worker-1")], "kind-other", "kind"),
    ([node("worker-1")], "corp", "unknown"),
])
def test_cluster_kind(nodes, context, kind):
    assert cluster_kind(nodes, context)[0] == kind


def test_lb_verdicts():
    assert LoadBalancerEvidence(with_address=["a/b=1.2.3.4"]).verdict("kind", [])[:2] == (True, "ok")
    no = LoadBalancerEvidence(pending=["istio-ingress/emojivoto-istio"])
    available, severity, found, consequence, fix = no.verdict("minikube", [])
    assert (available, severity) == (False, "warn") and "minikube tunnel" in fix and "port-forward" in consequence
    provisioning = LoadBalancerEvidence(pending=["x/y"], handled_pending=["x/y"])
    assert provisioning.verdict("eks", [])[0] is True  # a cloud LB takes minutes
    assert LoadBalancerEvidence(metallb=True).verdict("kind", [])[:2] == (False, "warn")  # no pool
    assert LoadBalancerEvidence(metallb=True, metallb_pools=1).verdict("kind", [])[0] is True
    assert "cloud-provider-kind" in LoadBalancerEvidence().verdict("kind", [])[4]
    assert LoadBalancerEvidence(servicelb=True).verdict("unknown", [])[0] is True
    assert LoadBalancerEvidence().verdict("unknown", [])[0] is None


@pytest.mark.parametrize("crds,istio,severity", [
    ("v1.3.0", "1.27.1", "ok"), ("v1.3.0", "1.26.3", "ok"), ("v1.4.0", "1.28.0", "ok"),
    ("v1.5.0", "1.29.2", "block"), ("v1.3.0", "1.21.0", "block"), ("v1.2.1", "1.27.1", "warn"),
    ("v1.4.0", "1.27.1", "warn"),
])
def test_istio_and_gateway_api_pairing(crds, istio, severity):
    assert pairing_finding(crds, istio).severity == severity


def test_pairing_needs_both_versions():
    assert pairing_finding(None, "1.27.1") is None and pairing_finding("v1.3.0", None) is None


def crds(version, channel="standard", stored=("v1",)):
    return {"present": True, "bundle_version": version, "versions": [version], "channel": channel,
            "crds": {"gateways": {}, "grpcroutes": {"stored_versions": list(stored)}}}


def test_crds_at_another_version_explain_the_choice():
    assert crd_version_finding(crds("v1.3.0")).severity == "ok"
    older = crd_version_finding(crds("v1.1.0"))
    assert older.severity == "info" and "upgrades them to v1.3.0" in older.consequence
    newer = crd_version_finding(crds("v1.4.0"))
    assert newer.severity == "warn" and "downgrade" in newer.consequence and "skip the CRD step" in newer.fix
    experimental = crd_version_finding(crds("v1.3.0", channel="experimental"))
    assert experimental.severity == "warn" and "experimental" in experimental.consequence
    stuck = crd_version_finding(crds("v1.0.0", stored=("v1alpha2",)))
    assert stuck.severity == "block" and "storedVersions" in stuck.consequence


def test_rbac_denials_block_unless_the_step_only_verifies():
    reviews = [(p, p.resource not in ("customresourcedefinitions", "namespaces"), "") for p in PERMISSIONS]
    findings = rbac_findings(reviews, {"gateway_api": {"present": True}})
    by_resource = {f.id: f for f in findings}
    assert by_resource["rbac.customresourcedefinitions"].severity == "warn"  # CRDs already there
    assert by_resource["rbac.namespaces"].severity == "block"
    assert "you may not create namespaces (cluster-wide)" in by_resource["rbac.namespaces"].found
    assert rbac_findings([(p, True, "") for p in PERMISSIONS], {})[0].severity == "ok"
    unknown = rbac_findings([(PERMISSIONS[0], None, "403")], {})[0]
    assert unknown.severity == "warn" and "kubectl auth can-i create namespaces" in unknown.fix


def test_kubectl_version_skew():
    assert version_skew("v1.32.4", "v1.31.0") is None
    finding = version_skew("v1.32.4", "v1.29.3")
    assert finding.severity == "warn" and "1.29" in finding.fix
