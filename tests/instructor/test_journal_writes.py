"""The journal's writer remembers what it last wrote on a cluster and writes the next step's entry
without reading it again; someone else's write in between is never lost (the resourceVersion
precondition refuses the stale write, and the writer reads afresh)."""

from __future__ import annotations

import pytest
from fleetlab import journal

from tutorial.cluster.client import ClusterClient
from tutorial.engine.journal import Journal, StepEntry
from tutorial.instructor.kubeapi import Kube


@pytest.fixture
def lab(fleet_lab):
    return fleet_lab(1)


def _writer(lab) -> Journal:
    return Journal(Kube(ClusterClient(str(lab.kubeconfig), "lab01")))


def _add(target: str, name: str):
    def change(entries):
        entries[target] = StepEntry(target, created=[{"api_version": "v1", "kind": "Namespace", "name": name,
                                                      "uid": f"uid-{name}"}])
        return entries
    return change


def test_the_next_write_needs_no_read_and_nobody_elses_write_is_lost(lab, monkeypatch):
    mine, theirs = _writer(lab), _writer(lab)
    reads = []
    original = Journal.read
    monkeypatch.setattr(Journal, "read", lambda self: reads.append(self) or original(self))

    mine.update(_add("one/a", "a"))
    reads.clear()
    mine.update(_add("one/b", "b"))
    assert reads == []  # it knew the journal: it wrote it
    assert set(journal(lab, "lab01")) == {"one/a", "one/b"}

    theirs.update(_add("two/c", "c"))  # another machine writes in between
    mine.update(_add("one/d", "d"))
    assert set(journal(lab, "lab01")) == {"one/a", "one/b", "two/c", "one/d"}
    assert mine in reads  # the stale write was refused; it read afresh

    theirs.update(lambda entries: {})  # a reset elsewhere: the ConfigMap is deleted
    assert journal(lab, "lab01") is None
    mine.update(_add("one/e", "e"))
    assert set(journal(lab, "lab01")) == {"one/e"}
