"""Fixtures for doctor, adaptation, asset cache and safety tests: sandbox clusters and targets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from sandbox_engine import engine_for, require_kubectl, start_cluster  # noqa: E402


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch):
    """State and config under tmp: the asset cache and settings.toml never touch the real ones."""
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("GATEWAY_TUTORIAL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("GATEWAY_TUTORIAL_OFFLINE", raising=False)


@pytest.fixture
def sandbox_factory(tmp_path):
    """start(faults) -> (cluster, engine); every cluster is stopped at the end."""
    started = []

    def start(faults=(), lb="127.0.0.1"):
        require_kubectl()
        cluster = start_cluster(tmp_path, faults=faults, lb=lb)
        started.append(cluster)
        return cluster, engine_for(cluster, tmp_path)

    yield start
    for cluster in started:
        cluster.stop()
