"""Choosing clusters: --context (repeatable), --match, --all-contexts; confirmation; exit codes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from fleetlab import REPO, closed_port, cli
from tutorial.instructor.selection import SelectionError, add_selection_options, select_clusters
from tutorial.sandbox import kubeconfig as kc_writer

NAMES = ["lab01", "lab02", "lab03", "prod-eu", "other"]


@pytest.fixture
def kubeconfig(tmp_path):
    return kc_writer.write(tmp_path / "kc", [(n, f"http://127.0.0.1:{closed_port()}") for n in NAMES])


def choose(kubeconfig, *argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig")
    add_selection_options(parser, timeout=10)
    return [c.context for c in select_clusters(parser.parse_args(["--kubeconfig", str(kubeconfig), *argv]))]


def test_contexts_matches_and_all(kubeconfig):
    assert choose(kubeconfig, "--context", "lab02", "--context", "lab01") == ["lab02", "lab01"]
    assert choose(kubeconfig, "--match", "lab*") == ["lab01", "lab02", "lab03"]
    assert choose(kubeconfig, "--context", "other", "--match", "lab0[23]") == ["other", "lab02", "lab03"]
    assert choose(kubeconfig, "--all-contexts") == NAMES


def test_selection_mistakes_name_the_fix(kubeconfig):
    with pytest.raises(SelectionError, match="--all-contexts; this kubeconfig has: lab01"):
        choose(kubeconfig)
    with pytest.raises(SelectionError, match="no context named lab9 .* it has: lab01, lab02"):
        choose(kubeconfig, "--context", "lab9")
    with pytest.raises(SelectionError, match="matches no context"):
        choose(kubeconfig, "--match", "workshop-*")


def test_the_global_context_spelling_still_works(kubeconfig):
    code, out = cli("--context", "lab01", "status", "--kubeconfig", str(kubeconfig), "--json")
    assert code == 3 and '"context": "lab01"' in out and "lab02" not in out


def test_no_terminal_and_no_yes_refuses(kubeconfig):
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "tutorial", "reset", "--kubeconfig", str(kubeconfig),
                           "--match", "lab*"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "add --yes" in proc.stderr and "lab03" in proc.stdout  # the list is shown first


def test_production_names_warn_and_all_unreachable_exits_3(kubeconfig):
    code, out = cli("prepare", "emojivoto", "--kubeconfig", str(kubeconfig), "--context", "prod-eu",
                    "--context", "lab01", "--yes", "--allow-production", "prod-eu", "--timeout", "30")
    assert "looks like production" in out and "prod-eu" in out
    assert code == 3, out
    assert out.count("connection refused") >= 2


def test_a_bad_target_is_a_usage_error(kubeconfig):
    code, out = cli("prepare", "no-such-lesson", "--kubeconfig", str(kubeconfig), "--all-contexts", "--yes")
    assert code == 2 and "unknown lesson 'no-such-lesson'" in out
    code, out = cli("reset", "emojivoto/nope", "--kubeconfig", str(kubeconfig), "--all-contexts", "--dry-run")
    assert code == 2 and "nope" in out


def test_asking_says_what_reset_deletes_and_no_means_nothing(kubeconfig):
    """On a terminal, reset lists the clusters, says what it deletes, asks; 'n' changes nothing."""
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "reset", "--kubeconfig", str(kubeconfig),
                             "--match", "lab*"], cwd=REPO, env=env, stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    try:
        os.write(master, b"n\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == 0, err
    assert "lab03" in out and "what its journal says the tutorial created (every step)" in out
    assert "--dry-run" in out and "on these 3 cluster(s)?" in out
    assert "nothing done (not confirmed)" in out
