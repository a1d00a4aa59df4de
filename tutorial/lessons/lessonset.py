"""The loaded tutorial: lessons in order, and TARGET resolution for run/check/prepare.

TARGET is `all`, `LESSON`, `LESSON/STEP`, `..LESSON/STEP` (everything up to and including that
step, in tutorial order) or `..LESSON` (everything up to the end of that lesson).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from tutorial.lessons.models import Lesson, Step, TargetError


@dataclass(frozen=True)
class LessonSet:
    lessons: tuple[Lesson, ...]  # sorted by `order`
    assets_dir: Path

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        valid = ", ".join(l.id for l in self.lessons) or "none (no lessons loaded)"
        raise TargetError(f"unknown lesson {lesson_id!r}; valid lessons: {valid}")

    def step(self, target: str) -> Step:
        """The step addressed as LESSON/STEP."""
        lesson_id, sep, step_id = target.partition("/")
        if not sep or not step_id:
            raise TargetError(f"{target!r} is not a step; write LESSON/STEP, e.g. "
                              f"{self._example()}")
        return self.lesson(lesson_id).step(step_id)

    def targets(self) -> list[str]:
        """Every valid TARGET spelling (without the `..` forms)."""
        out = ["all"]
        for lesson in self.lessons:
            out.append(lesson.id)
            out.extend(s.target for s in lesson.steps)
        return out

    def _example(self) -> str:
        for lesson in self.lessons:
            if lesson.steps:
                return lesson.steps[0].target
        return "LESSON/STEP"

    def _variant_for(self, lesson: Lesson, variants: Mapping[str, str]) -> str | None:
        chosen = variants.get(lesson.id)
        if chosen is not None:
            return lesson.variant(chosen).id
        default = lesson.default_variant
        return default.id if default else None

    def _walk(self, lessons, variants: Mapping[str, str]) -> list[tuple[Lesson, Step]]:
        return [(l, s) for l in lessons for s in l.steps_for(self._variant_for(l, variants))]

    def resolve_target(self, target: str,
                       variants: Mapping[str, str] | None = None) -> list[tuple[Lesson, Step]]:
        """The (lesson, step) pairs TARGET names, in tutorial order.

        `variants` maps lesson id -> chosen variant id; other lessons use their default
        variant. Steps of other variants are left out, except that naming a step explicitly
        selects that step's variant for its lesson. Raises TargetError for unknown names.
        """
        variants = dict(variants or {})
        for lesson_id in variants:
            self.lesson(lesson_id)
        target = target.strip()
        if target == "all":
            return self._walk(self.lessons, variants)
        upto = target.startswith("..")
        name = target[2:] if upto else target
        lesson_id, sep, step_id = name.partition("/")
        lesson = self.lesson(lesson_id)
        step = lesson.step(step_id) if sep else None
        if step is not None and step.variant is not None:
            if variants.get(lesson.id, step.variant) != step.variant:
                raise TargetError(f"step {step.target} belongs to variant {step.variant!r}, "
                                  f"but variant {variants[lesson.id]!r} was chosen")
            variants[lesson.id] = step.variant
        if not upto:
            return [(lesson, step)] if step else self._walk([lesson], variants)
        index = self.lessons.index(lesson)
        pairs = self._walk(self.lessons[: index + 1], variants)
        if step is None:
            return pairs
        cut = next(i for i, (l, s) in enumerate(pairs) if s is step)
        return pairs[: cut + 1]
