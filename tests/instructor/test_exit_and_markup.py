"""Exit code 3 whenever the cluster stops answering, mid-run included; context names, namespaces
and lesson strings never meet Rich markup unescaped (issue 19)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fleetlab import REPO, cli
from tutorial.sandbox import kubeconfig as kc_writer

ODD = "lab[/]x"


@pytest.fixture
def lab(fleet_lab, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    lab = fleet_lab(1)
    kc_writer.write(lab.kubeconfig, [(ODD, lab.servers["lab01"]), ("lab01", lab.servers["lab01"])])
    return lab


@pytest.mark.parametrize("argv", [
    ("run", "before-you-start", "--yes"),
    ("check", "before-you-start"),
    ("explain", "before-you-start/cluster"),
    ("prepare", "before-you-start", "--yes"),
    ("status",),
    ("reset", "--dry-run"),
    ("reset", "--yes"),
])
def test_a_context_named_with_markup_is_printed_as_it_is(lab, argv):
    code, out = cli(*argv, "--kubeconfig", str(lab.kubeconfig), "--context", ODD)
    assert "Traceback" not in out and "MarkupError" not in out, out
    assert code == 0, out
    assert ODD in out or argv[0] in ("check", "explain"), out


def test_the_cluster_stopping_mid_run_exits_3(lab, tmp_path):
    """The first step passes, then the API server goes away: run stops with exit 3, not 1."""
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state2"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "run", "..emojivoto/deploy", "--yes",
                             "--kubeconfig", str(lab.kubeconfig), "--context", "lab01"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if "▶ emojivoto/namespace" in line:
                lab.clusters[0].stop()  # the cluster dies between steps
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "".join(out)
    assert proc.returncode == 3, text
    assert "stopped answering" in text
