"""Lint lesson files: every problem at once, in `FILE:LINE: field: message` form.

Given single files, the lint still loads their sibling lessons so `requires` and duplicate ids
are checked against the whole tutorial, but it reports problems only for the files given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from tutorial.lessons.loader import check_files, lesson_files
from tutorial.lessons.models import LessonProblem


@dataclass
class LintReport:
    files: list[str]
    problems: list[LessonProblem] = field(default_factory=list)
    lessons: int = 0
    steps: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"ok: {self.lessons} lessons, {self.steps} steps"
        bad = len({p.file for p in self.problems})
        return f"{len(self.problems)} problems in {bad} files"

    def to_dict(self) -> dict:
        return {"ok": self.ok, "files": self.files, "lessons": self.lessons,
                "steps": self.steps, "problems": [p.to_dict() for p in self.problems],
                "summary": self.summary()}


def _context(files: list[Path], explicit: set[Path]) -> list[Path]:
    """The requested files plus their sibling lesson files (for cross-file checks)."""
    siblings, _ = lesson_files({f.parent for f in explicit if f.parent.is_dir()})
    seen = {f.resolve() for f in files}
    return files + [s for s in siblings if s.resolve() not in seen]


def lint(paths: Iterable[Path], assets_dir: Path) -> LintReport:
    """Lint files and directories of lessons against the format and assets_dir."""
    paths = [Path(p) for p in paths]
    files, problems = lesson_files(paths)
    explicit = {p for p in paths if p.is_file()}
    wanted = {str(f) for f in files}
    docs, found = check_files(_context(files, explicit), Path(assets_dir))
    problems += [p for p in found if p.file in wanted]
    docs = [(name, doc) for name, doc in docs if name in wanted]
    return LintReport(files=sorted(wanted), problems=problems, lessons=len(docs),
                      steps=sum(len(doc.get("steps", [])) for _, doc in docs))
