"""Lesson files: the format (spec, checkspec), loading, linting and target resolution.

Plain Python only: this package never imports textual or kubernetes. The loader (and PyYAML) is
imported on first use of load_files/load_lessons, so reading lessons from the cache
(tutorial.lessons.cache) does not pay for them.
"""

from tutorial.lessons.lessonset import LessonSet
from tutorial.lessons.models import (Check, Command, Explanation, Lesson, LessonErrors,
                                     LessonProblem, Manifest, Step, TargetError, Variant)

__all__ = [
    "Check", "Command", "Explanation", "Lesson", "LessonErrors", "LessonProblem", "LessonSet",
    "Manifest", "Step", "TargetError", "Variant", "load_files", "load_lessons",
]


def __getattr__(name: str):
    if name in ("load_files", "load_lessons"):
        from tutorial.lessons import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'tutorial.lessons' has no attribute {name!r}")
