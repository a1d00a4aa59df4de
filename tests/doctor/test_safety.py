"""Production-looking contexts: default and configured patterns, confirmation, doctor's warning."""

from __future__ import annotations

import io
import json

import pytest

from tutorial.cli import main
from tutorial.engine.safety import assess, confirm, load_settings, settings_path
from tutorial.engine.target import ClusterTarget


def target(context: str, server: str = "https://10.0.0.1:6443", sandbox: bool = False) -> ClusterTarget:
    return ClusterTarget(context=context, server=server, sandbox=sandbox)


@pytest.mark.parametrize("context,server", [
    ("prod-eu-1", "https://10.0.0.1:6443"),
    ("arn:aws:eks:eu-west-1:123456789012:cluster/shop-prod", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"),
    ("gke_acme_europe-west1_payments-prd", "https://34.1.2.3"),
    ("aks-live", "https://aks-live-dns.hcp.westeurope.azmk8s.io:443"),
    ("team-a", "https://api.production.example.com:6443"),
])
def test_production_looking_targets_are_warned(context, server):
    warning = assess(target(context, server))
    assert warning is not None
    assert context in warning.message and "production" in warning.message and "--sandbox" in warning.message


@pytest.mark.parametrize("context", ["kind-kind", "minikube", "k3d-lab", "docker-desktop", "oliver-dev"])
def test_lab_contexts_are_not_warned(context):
    assert assess(target(context, "https://127.0.0.1:6443")) is None


def test_sandbox_is_never_production():
    assert assess(target("prod", sandbox=True)) is None


def test_patterns_and_trusted_contexts_come_from_the_settings_file():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('[safety]\nproduction_patterns = ["*shop*"]\ntrusted_contexts = ["shop-lab"]\n')
    assert assess(target("prod-eu")) is None  # the defaults are replaced
    assert assess(target("shop-eu")).pattern == "*shop*"
    assert assess(target("shop-lab")) is None


def test_a_broken_settings_file_falls_back_to_the_defaults_and_says_so():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("[safety\nproduction_patterns = 3")
    patterns, _, problem = load_settings()
    assert "*prod*" in patterns and str(path) in problem
    assert assess(target("prod")) is not None


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_confirmation_needs_the_context_name():
    prod = target("prod-eu-1")
    out = io.StringIO()
    assert confirm(prod, stdin=Tty("yes\n"), out=out) is False
    assert "WARNING" in out.getvalue() and "Not confirmed" in out.getvalue()
    assert confirm(prod, stdin=Tty("prod-eu-1\n"), out=io.StringIO()) is True


def test_without_a_terminal_only_allow_production_confirms():
    prod, out = target("prod-eu-1"), io.StringIO()
    assert confirm(prod, stdin=io.StringIO("prod-eu-1\n"), out=out) is False
    assert "--allow-production prod-eu-1" in out.getvalue()
    assert confirm(prod, allow="other", stdin=io.StringIO(), out=io.StringIO()) is False
    assert confirm(prod, allow="prod-eu-1", stdin=io.StringIO(), out=io.StringIO()) is True
    assert confirm(target("kind-kind"), stdin=io.StringIO(), out=io.StringIO()) is True


def test_doctor_warns_about_a_production_looking_context(sandbox_factory, tmp_path, capsys):
    cluster, _ = sandbox_factory()
    kubeconfig = cluster.write_kubeconfig(tmp_path / "prod-kubeconfig", context="shop-prod")
    code = main(["--kubeconfig", str(kubeconfig), "--context", "shop-prod", "doctor", "--json", "--no-tools"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["facts"]["production_looking"] is True
    [finding] = [f for f in doc["findings"] if f["id"] == "safety.production"]
    assert finding["severity"] == "warn" and "shop-prod" in finding["found"]
