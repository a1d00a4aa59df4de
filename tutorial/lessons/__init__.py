"""Lesson files: the format (spec, checkspec), loading, linting and target resolution.

Plain Python only: this package never imports textual or kubernetes.
"""

from tutorial.lessons.lessonset import LessonSet
from tutorial.lessons.loader import load_files, load_lessons
from tutorial.lessons.models import (Check, Command, Explanation, Lesson, LessonErrors,
                                     LessonProblem, Manifest, Step, TargetError, Variant)

__all__ = [
    "Check", "Command", "Explanation", "Lesson", "LessonErrors", "LessonProblem", "LessonSet",
    "Manifest", "Step", "TargetError", "Variant", "load_files", "load_lessons",
]
