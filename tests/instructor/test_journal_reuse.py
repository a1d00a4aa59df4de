"""A fleet prepare takes each step's after-snapshot as the next step's before-snapshot: the journal
it writes is the one a fresh snapshot before every step writes, with far fewer lists sent.

Two in-process sandbox clusters are prepared to the end of lesson 2 (emojivoto, then Istio's
charts: istiod goes into the istio-system that istio-base created), one as prepare does it, one
with a fresh before-snapshot for every step; their journals are compared entry by entry."""

from __future__ import annotations

import collections
import threading

import pytest
from fleetlab import cli, journal

from tutorial.engine import journal as journal_mod
from tutorial.instructor import kubeapi

TARGET = "..istio/ingress"


def _shape(entries: dict) -> dict:
    """Each step's entry without uids and times (two clusters never share those)."""
    return {target: {"created": sorted((c["kind"], c.get("namespace"), c["name"]) for c in e["created"]),
                     "releases": sorted((r["namespace"], r["name"]) for r in e["releases"]),
                     "kept": sorted((k["kind"], k.get("namespace"), k["name"]) for k in e["kept"])}
            for target, e in entries.items()}


@pytest.fixture
def lab(fleet_lab):
    return fleet_lab(2)


def test_reused_snapshots_write_the_same_journal_with_fewer_lists(lab, monkeypatch):
    lists, lock = collections.Counter(), threading.Lock()
    original_list = kubeapi.Kube.list_meta

    def counted(self, *args, **kwargs):
        with lock:
            lists[self.client.server] += 1
        return original_list(self, *args, **kwargs)
    monkeypatch.setattr(kubeapi.Kube, "list_meta", counted)

    code, out = cli("prepare", TARGET, "--context", "lab01", "--kubeconfig", str(lab.kubeconfig), "--yes")
    assert code == 0, out
    original_journaled = journal_mod.journaled
    monkeypatch.setattr(journal_mod, "journaled",  # as before: a fresh snapshot before every step
                        lambda engine, step, strict=False, previous=None: original_journaled(engine, step, strict=strict))
    code, out = cli("prepare", TARGET, "--context", "lab02", "--kubeconfig", str(lab.kubeconfig), "--yes")
    assert code == 0, out

    reused, fresh = journal(lab, "lab01"), journal(lab, "lab02")
    assert reused and _shape(reused) == _shape(fresh)
    assert any(("Deployment", "istio-system", "istiod") in e["created"] for e in _shape(reused).values())
    assert lists[lab.servers["lab01"]] < 0.8 * lists[lab.servers["lab02"]], dict(lists)
