"""Lesson files: the format (spec, checkspec), loading, linting and target resolution.

Plain Python only: this package never imports textual or kubernetes. Every name below is
imported on first use: reading lessons from the cache (tutorial.lessons.cache) does not pay for
the loader, and the simulated helm and istioctl (which only need safeyaml) not for the models.
"""

_MODELS = {"Check", "Command", "Explanation", "Lesson", "LessonErrors", "LessonProblem", "Manifest", "Step",
           "TargetError", "Variant"}

__all__ = [
    "Check", "Command", "Explanation", "Lesson", "LessonErrors", "LessonProblem", "LessonSet",
    "Manifest", "Step", "TargetError", "Variant", "load_files", "load_lessons",
]


def __getattr__(name: str):
    if name in ("load_files", "load_lessons"):
        from tutorial.lessons import loader

        return getattr(loader, name)
    if name == "LessonSet":
        from tutorial.lessons.lessonset import LessonSet

        return LessonSet
    if name in _MODELS:
        from tutorial.lessons import models

        return getattr(models, name)
    raise AttributeError(f"module 'tutorial.lessons' has no attribute {name!r}")
