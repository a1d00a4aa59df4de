"""A failing cluster is explained (command stderr, or the failing check's observation) and never
stops the others."""

from __future__ import annotations

import pytest

from fleetlab import cli

LESSON = """\
format_version: 1
id: picky
title: Steps that fail on some clusters
order: 1
summary: One step's command fails on lab02; another step's check fails on lab03.
steps:
  - id: command
    title: A command that fails on lab02
    text: Fails on lab02.
    commands:
      - run: [sh, -c, 'if [ "$0" = lab02 ]; then echo "no room at the inn" >&2; exit 3; fi; kubectl --context "$0" create ns one', "{context}"]
    checks:
      - kind: namespace_exists
        name: one
  - id: check
    title: A namespace only lab01 gets
    text: Its check fails on lab03.
    commands:
      - run: [sh, -c, 'if [ "$0" != lab03 ]; then kubectl --context "$0" create namespace picky; fi', "{context}"]
    checks:
      - kind: namespace_exists
        name: picky
        timeout: 1
"""


@pytest.fixture
def lab(fleet_lab):
    return fleet_lab(3)


def test_failures_are_explained_and_the_others_finish(lab, tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "10-picky.yaml").write_text(LESSON)
    code, out = cli("prepare", "picky", "--lessons", str(lessons), "--kubeconfig", str(lab.kubeconfig),
                    "--all-contexts", "--yes")
    assert code == 1, out
    assert "picky/command: `sh -c" in out and "exited 3: no room at the inn" in out
    assert "picky/check: check" in out and "namespace picky not found" in out.replace("\n", " ")
    assert "picky" in lab.names("lab01", "ns")
    assert "at picky/check" in out  # lab01 went all the way
