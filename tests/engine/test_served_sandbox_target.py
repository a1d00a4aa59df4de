"""A `sandbox serve` cluster reached through a kubeconfig (as an instructor's rehearsal lab is):
the tutorial recognises it as simulated, labels it so, and gives its commands the simulated
helm and istioctl, while its progress stays keyed by its own context and server."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from sandbox_engine import require_kubectl, start_cluster
from tutorial.cli import main
from tutorial.engine.target import SANDBOX_IDENTITY, kube_target, probe
from tutorial.sandbox.simtools import bin_dir


@pytest.fixture
def served(tmp_path):
    require_kubectl()
    cluster = start_cluster(tmp_path)
    kubeconfig = cluster.write_kubeconfig(tmp_path / "workshop.yaml", context="lab07")
    yield cluster, kubeconfig
    cluster.stop()


def test_probe_marks_a_served_sandbox_as_simulated(served):
    cluster, kubeconfig = served
    target = kube_target(str(kubeconfig), "lab07")
    assert not target.sandbox  # nothing is known before the cluster answers
    assert probe(target) is None
    assert target.sandbox and not target.embedded
    assert str(bin_dir()) in target.extra_path
    assert "SANDBOX" in target.label and "lab07" in target.label
    assert target.identity == ("lab07", cluster.url) != ("lab07", SANDBOX_IDENTITY)


def test_run_on_a_served_sandbox_says_so_and_finds_the_simulated_helm(served, tmp_path, monkeypatch):
    _, kubeconfig = served
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(buf):
        code = main(["run", "istio/base", "--kubeconfig", str(kubeconfig), "--context", "lab07", "--yes"])
    out = buf.getvalue()
    assert code == 0, out
    assert "SANDBOX" in out and "simulated helm" in out
    assert "not found on PATH" not in out
