"""One production guard for every path that writes (issue 19): learner and fleet, --yes, --all-contexts,
--match; one name test; only --allow-production NAME (exact) or typing the name passes it."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from fleetlab import REPO, closed_port, cli
from tutorial.engine.safety import assess
from tutorial.instructor.selection import FleetCluster
from tutorial.sandbox import kubeconfig as kc_writer

PRODUCTION = ["prod1", "eksprod", "production2", "shop_live2", "prod-eu-1", "my-prd", "live", "PROD"]
LABS = ["lab01", "lab02", "delivery", "olive"]


@pytest.mark.parametrize("name", PRODUCTION)
def test_one_name_test_catches_every_production_name(name):
    server = f"http://127.0.0.1:{closed_port()}"
    assert assess(SimpleNamespace(context=name, server=server, sandbox=False)) is not None
    assert FleetCluster(name, server, None).looks_like_production


@pytest.mark.parametrize("name", LABS)
def test_lab_names_are_not_production(name):
    assert not FleetCluster(name, "http://127.0.0.1:1", None).looks_like_production


@pytest.fixture
def kubeconfig(tmp_path):
    return kc_writer.write(tmp_path / "kc", [(n, f"http://127.0.0.1:{closed_port()}")
                                             for n in ["lab01", *PRODUCTION]])


@pytest.mark.parametrize("argv", [
    ("reset", "--all-contexts", "--yes"),
    ("reset", "--match", "*", "--yes"),
    ("reset", "--context", "prod-eu-1", "--yes"),
    ("prepare", "emojivoto", "--all-contexts", "--yes"),
    ("prepare", "emojivoto", "--match", "*prod*", "--yes"),
    ("prepare", "emojivoto", "--context", "live", "--context", "lab01", "--yes"),
])
def test_fleet_writes_refuse_production_even_with_yes(kubeconfig, argv):
    code, out = cli(*argv, "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 2, out
    assert "--yes does not confirm" in out and "nothing was done" in out
    assert "connection refused" not in out  # refused before any cluster was asked


def test_allow_production_must_name_the_context_exactly(kubeconfig):
    code, out = cli("reset", "--context", "prod-eu-1", "--yes", "--allow-production", "prod-eu",
                    "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 2 and "--allow-production prod-eu-1" in out
    code, out = cli("reset", "--context", "prod-eu-1", "--context", "live", "--yes",
                    "--allow-production", "prod-eu-1", "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 2 and "live look(s) like production" in out
    code, out = cli("reset", "--context", "prod-eu-1", "--yes", "--allow-production", "prod-eu-1",
                    "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 3 and "connection refused" in out  # passed the guard, then the cluster did not answer
    code, out = cli("--allow-production", "PROD", "reset", "--context", "PROD", "--yes",
                    "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 3, out


def test_dry_run_is_not_guarded(kubeconfig):
    code, out = cli("reset", "--all-contexts", "--dry-run", "--kubeconfig", str(kubeconfig), "--timeout", "5")
    assert code == 3 and "does not confirm" not in out


def _on_terminal(kubeconfig, typed: bytes, *argv):
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", *argv, "--kubeconfig", str(kubeconfig),
                             "--timeout", "5"], cwd=REPO, env={**os.environ, "COLUMNS": "200"},
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        os.write(master, typed)
        out, err = proc.communicate(timeout=90)
    finally:
        os.close(master)
    return proc.returncode, out + err


def test_typing_the_name_passes_and_anything_else_refuses(kubeconfig):
    code, out = _on_terminal(kubeconfig, b"prod1\n", "reset", "--context", "prod1", "--yes")
    assert "Type the context name (prod1)" in out and code == 3, out
    code, out = _on_terminal(kubeconfig, b"yes\n", "reset", "--context", "prod1", "--yes")
    assert code == 2 and "prod1 was not confirmed; nothing was done" in out, out


@pytest.mark.parametrize("name", PRODUCTION)
def test_learner_run_with_yes_refuses_production_without_a_terminal(kubeconfig, name):
    proc = subprocess.run([sys.executable, "-m", "tutorial", "run", "emojivoto", "--yes", "--context", name,
                           "--kubeconfig", str(kubeconfig)], cwd=REPO, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2 and "looks like a production cluster" in proc.stderr, proc.stderr
