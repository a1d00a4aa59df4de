"""The journal's promises on in-process sandbox clusters: never delete what was there before,
never delete a look-alike made again since, undo only from TARGET on, and the learner hook."""

from __future__ import annotations

import pytest

from fleetlab import cli, journal

OTHER_APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper, namespace: emojivoto}
spec:
  replicas: 1
  selector: {matchLabels: {app: keeper}}
  template:
    metadata: {labels: {app: keeper}}
    spec: {containers: [{name: keeper, image: nginx:1.27}]}
"""


@pytest.fixture
def lab(fleet_lab):
    return fleet_lab(1)


def kc(lab) -> list[str]:
    return ["--kubeconfig", str(lab.kubeconfig), "--context", "lab01"]


def test_a_namespace_with_other_workloads_is_kept(lab):
    lab.kubectl("lab01", "create", "namespace", "emojivoto")
    lab.kubectl("lab01", "apply", "-f", "-", input=OTHER_APP)
    code, out = cli("prepare", "emojivoto", *kc(lab), "--yes")
    assert code == 0, out
    entries = journal(lab, "lab01")
    assert {k["name"] for k in entries["emojivoto/namespace"]["kept"]} == {"emojivoto"}
    assert {c["name"] for c in entries["emojivoto/deploy"]["created"] if c["kind"] == "Deployment"} == \
        {"web", "emoji", "voting", "vote-bot"}
    code, out = cli("reset", *kc(lab), "--dry-run")
    assert "Namespace emojivoto: it existed before emojivoto/namespace ran" in out, out
    code, out = cli("reset", *kc(lab), "--yes")
    assert code == 0, out
    assert "emojivoto" in lab.names("lab01", "ns")
    assert lab.names("lab01", "deploy", "emojivoto") == {"keeper"}
    assert lab.names("lab01", "svc", "emojivoto") == set()


def test_an_object_made_again_since_is_not_the_tutorials(lab):
    assert cli("prepare", "emojivoto", *kc(lab), "--yes")[0] == 0
    lab.kubectl("lab01", "delete", "namespace", "emojivoto", "--wait=true")
    lab.kubectl("lab01", "create", "namespace", "emojivoto")  # someone's own, same name, new uid
    code, out = cli("reset", *kc(lab), "--dry-run")
    assert "Namespace emojivoto: it was deleted and made again" in out, out
    assert "✘ delete  Namespace emojivoto" not in out
    code, out = cli("reset", *kc(lab), "--yes")
    assert code == 0, out
    assert "emojivoto" in lab.names("lab01", "ns")
    assert journal(lab, "lab01") is None


def test_reset_from_a_step_undoes_only_that_step_and_later(lab):
    assert cli("prepare", "emojivoto", *kc(lab), "--yes")[0] == 0
    code, out = cli("reset", "emojivoto/deploy", *kc(lab), "--yes")
    assert code == 0, out
    assert "emojivoto" in lab.names("lab01", "ns")
    assert lab.names("lab01", "deploy", "emojivoto") == set()
    assert set(journal(lab, "lab01")) == {"emojivoto/namespace"}
    code, out = cli("status", *kc(lab), "--json")
    import json
    states = {s["target"]: s["state"] for s in json.loads(out)["clusters"][0]["steps"]}
    assert states["emojivoto/namespace"] == "done" and states["emojivoto/deploy"] == "todo"


def test_the_learner_hook_records_a_run_step(lab, tmp_path):
    from tutorial.engine import journal as jr
    from tutorial.engine.progress import ProgressStore
    from tutorial.engine.session import Engine
    from tutorial.engine.target import kube_target
    from tutorial.lessons import load_lessons
    from tutorial.paths import assets_dir, lessons_dir

    target = kube_target(str(lab.kubeconfig), "lab01")
    target.env = {"HOME": str(tmp_path / "home")}
    engine = Engine(load_lessons(lessons_dir(), assets_dir()), target,
                    ProgressStore.for_cluster("lab01", target.server, state_dir=tmp_path / "learner"))
    step = engine.lessons.step("emojivoto/namespace")
    with jr.journaled(engine, step):
        with jr.journaled(engine, step):  # what Engine.run_step's own hook does inside prepare: nothing
            assert engine.run_step(step, solve=True).ok
    entry = journal(lab, "lab01")["emojivoto/namespace"]
    assert [(c["kind"], c["name"]) for c in entry["created"]] == [("Namespace", "emojivoto")]
    assert jr.record_before_step(engine, engine.lessons.step("before-you-start/cluster")) is None  # only reads
    jr.release(engine)
    engine.close()
