"""load_lessons on the valid fixtures: models, defaults, manifests, and LessonErrors."""

from __future__ import annotations

import dataclasses

import pytest

from lessonfix import ASSETS, VALID, edit
from tutorial.lessons import LessonErrors, LessonProblem, load_files, load_lessons


@pytest.fixture(scope="module")
def lessons():
    return load_lessons(VALID, ASSETS)


def test_lessons_are_ordered_and_complete(lessons):
    assert [l.id for l in lessons.lessons] == ["basics", "mesh", "gateway"]
    assert [l.order for l in lessons.lessons] == [1, 2, 3]
    mesh = lessons.lesson("mesh")
    assert mesh.requires == ("basics",)
    assert mesh.variables == {"revision": "1-26", "chart_repo": "https://example.test/charts"}
    assert [v.id for v in mesh.variants] == ["helm", "istioctl"]
    assert mesh.default_variant.id == "istioctl"
    assert mesh.file.endswith("20-mesh.yaml") and mesh.line == 1


def test_models_are_immutable(lessons):
    step = lessons.step("basics/namespace")
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.title = "x"  # type: ignore[misc]


def test_commands_and_solve_default(lessons):
    step = lessons.step("basics/namespace")
    (command,) = step.commands
    assert command.run == ("kubectl", "--context", "{context}", "create", "namespace", "demo")
    assert command.ok_exit_codes == (0, 1) and command.timeout == 300
    assert step.solve is None and step.solve_commands == step.commands
    assert step.cleanup[0].run[:2] == ("kubectl", "delete")
    istioctl = lessons.step("mesh/istioctl-install")
    assert istioctl.commands[0].show_only is True
    assert istioctl.solve_commands[0].run[-1] == "revision={revision}"
    assert lessons.step("mesh/crds").commands[0].timeout == 120.5


def test_checks_get_defaults_ids_and_titles(lessons):
    pods = lessons.step("basics/pods")
    assert [c.id for c in pods.checks] == ["pods_ready", "pods_ready-2", "deployment_available"]
    assert pods.checks[0].params == {"namespace": "demo", "selector": "app=web", "count": 2}
    assert pods.checks[1].params == {"namespace": "demo", "count": 1}
    assert pods.checks[1].title == "Pods in demo are ready" and pods.checks[1].timeout == 60
    assert pods.optional is True
    gw = lessons.step("gateway/apply-gateway")
    programmed, attached, accepted = gw.checks
    assert programmed.title == "The Gateway has an address"
    assert programmed.params["address"] is True
    assert attached.id == "listener_attached_routes" and attached.params["count"] == 1
    assert accepted.params["parent"] == {"name": "demo", "namespace": "demo-ingress",
                                         "section_name": "http"}
    assert accepted.params["route_kind"] == "HTTPRoute"
    assert type(accepted.params["parent"]) is dict
    crds = lessons.step("mesh/crds").checks[0]
    assert crds.timeout == 30 and len(crds.params["names"]) == 2


def test_manifests_text_from_assets_and_inline(lessons):
    gw = lessons.step("gateway/apply-gateway")
    assert gw.manifest("gateway").path == ASSETS / "gateway-api" / "gateway.yaml"
    assert "kind: Gateway" in gw.manifest("gateway").text
    assert gw.manifest("route").text.startswith("apiVersion: gateway.networking.k8s.io/v1\n")
    assert "---" in gw.manifest("route").text
    with pytest.raises(KeyError):
        gw.manifest("nope")


def test_explanations(lessons):
    (expl,) = lessons.step("gateway/apply-gateway").explanations
    assert expl.when == {"check": "accepted", "reason": "NotAllowedByListeners"}
    assert expl.fix_command[0] == "kubectl" and "Label" in expl.fix


def test_errors_list_every_problem(lesson_dir):
    edit(lesson_dir / "10-basics.yaml", "title: Basics", "titl: Basics")
    edit(lesson_dir / "20-mesh.yaml", "order: 2", "order: two")
    with pytest.raises(LessonErrors) as info:
        load_lessons(lesson_dir, ASSETS)
    problems = info.value.problems
    assert all(isinstance(p, LessonProblem) for p in problems)
    fields = {(p.file.rsplit("/", 1)[-1], p.field) for p in problems}
    assert fields == {("10-basics.yaml", "titl"), ("10-basics.yaml", "title"),
                      ("20-mesh.yaml", "order")}
    assert str(problems[0]) == (f"{lesson_dir / '10-basics.yaml'}:1: title: missing required "
                                "key, expected a string")
    assert str(problems[1]).startswith(f"{lesson_dir / '10-basics.yaml'}:3: titl: unknown key")
    assert "20-mesh.yaml:4: order: got the string 'two'" in str(info.value)


def test_load_files_checks_only_given_files(lesson_dir):
    with pytest.raises(LessonErrors, match="no lesson 'basics'"):
        load_files([lesson_dir / "30-gateway.yaml"], ASSETS)
    only = load_files([lesson_dir / "10-basics.yaml"], ASSETS)
    assert [l.id for l in only.lessons] == ["basics"]


def test_problem_format():
    assert str(LessonProblem("a.yaml", 3, "steps[0].id", "bad")) == "a.yaml:3: steps[0].id: bad"
    assert str(LessonProblem("dir", 0, "", "empty")) == "dir: empty"
