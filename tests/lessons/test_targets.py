"""TARGET resolution: all, LESSON, LESSON/STEP, ..LESSON/STEP, with variants."""

from __future__ import annotations

import pytest

from lessonfix import ASSETS, VALID
from tutorial.lessons import TargetError, load_lessons


@pytest.fixture(scope="module")
def lessons():
    return load_lessons(VALID, ASSETS)


def names(pairs):
    return [s.target for _, s in pairs]


def test_all_uses_default_variants(lessons):
    assert names(lessons.resolve_target("all")) == [
        "basics/namespace", "basics/pods", "mesh/crds", "mesh/istioctl-install", "mesh/verify",
        "gateway/apply-gateway", "gateway/reach"]


def test_all_with_chosen_variant(lessons):
    got = names(lessons.resolve_target("all", variants={"mesh": "helm"}))
    assert "mesh/helm-install" in got and "mesh/istioctl-install" not in got


def test_lesson_and_step(lessons):
    assert names(lessons.resolve_target("basics")) == ["basics/namespace", "basics/pods"]
    ((lesson, step),) = lessons.resolve_target("mesh/verify")
    assert (lesson.id, step.id) == ("mesh", "verify")


def test_upto_step_includes_everything_before(lessons):
    assert names(lessons.resolve_target("..mesh/istioctl-install")) == [
        "basics/namespace", "basics/pods", "mesh/crds", "mesh/istioctl-install"]
    assert names(lessons.resolve_target("..mesh")) == [
        "basics/namespace", "basics/pods", "mesh/crds", "mesh/istioctl-install", "mesh/verify"]


def test_naming_a_variant_step_selects_its_variant(lessons):
    assert names(lessons.resolve_target("..mesh/verify", variants={"mesh": "helm"}))[-2:] == [
        "mesh/helm-install", "mesh/verify"]
    assert names(lessons.resolve_target("..mesh/helm-install"))[-1] == "mesh/helm-install"
    with pytest.raises(TargetError, match="belongs to variant 'helm'"):
        lessons.resolve_target("..mesh/helm-install", variants={"mesh": "istioctl"})


@pytest.mark.parametrize("target,words", [
    ("nope", "valid lessons: basics, mesh, gateway"),
    ("basics/nope", "valid steps: namespace, pods"),
    ("..nope/x", "unknown lesson 'nope'"),
    ("", "unknown lesson ''"),
])
def test_unknown_targets_list_valid_ones(lessons, target, words):
    with pytest.raises(TargetError, match=words):
        lessons.resolve_target(target)


def test_unknown_variant_and_lesson_in_variants(lessons):
    with pytest.raises(TargetError, match="valid: helm, istioctl"):
        lessons.resolve_target("all", variants={"mesh": "apt"})
    with pytest.raises(TargetError, match="unknown lesson 'zzz'"):
        lessons.resolve_target("all", variants={"zzz": "helm"})


def test_step_lookup_and_targets(lessons):
    assert lessons.step("gateway/reach").title == "Reach the app"
    with pytest.raises(TargetError, match="LESSON/STEP"):
        lessons.step("gateway")
    assert lessons.targets()[:3] == ["all", "basics", "basics/namespace"]
