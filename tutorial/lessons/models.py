"""Lessons as plain immutable dataclasses (no textual, no kubernetes).

Every object keeps `file` and `line` of its source so later errors can point at the lesson text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LessonProblem:
    """One problem in a lesson file, printed as `FILE:LINE: field.path: message`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        """One line: invisible and separator characters (U+2028, escapes) written as \\uHHHH."""
        from tutorial.engine.visible import escape_invisible

        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return escape_invisible(text)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field,
                "message": self.message}


class LessonErrors(Exception):
    """Raised by load_lessons; `.problems` holds every problem found, in file/line order."""

    def __init__(self, problems: list[LessonProblem]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in lesson files")

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class TargetError(ValueError):
    """An unknown lesson, step or variant in a TARGET; the message lists the valid ones."""


@dataclass(frozen=True)
class Variant:
    id: str
    title: str
    summary: str = ""
    default: bool = False
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Manifest:
    """YAML shown to the learner; `.text` reads it from the assets dir or returns it inline."""

    id: str
    title: str | None = None
    file: str | None = None  # relative to assets_dir
    content: str | None = None
    assets_dir: Path | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    @property
    def path(self) -> Path | None:
        """The absolute asset path, or None for inline content."""
        if self.file is None or self.assets_dir is None:
            return None
        return self.assets_dir / self.file

    @property
    def text(self) -> str:
        if self.content is not None:
            return self.content
        path = self.path
        if path is None:
            raise FileNotFoundError(f"manifest {self.id!r} has neither file nor content")
        return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Command:
    run: tuple[str, ...]
    stdin: str | None = None
    title: str | None = None
    timeout: float = 300
    ok_exit_codes: tuple[int, ...] = (0,)
    show_only: bool = False
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Check:
    """A typed check: `kind` names an entry of checkspec.CHECK_KINDS; `params` has its fields
    with defaults filled in. `id` is given or derived from the kind (unique in the step)."""

    kind: str
    id: str
    title: str
    timeout: float = 60.0
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Explanation:
    id: str
    when: dict[str, Any] = field(hash=False)
    title: str = ""
    why: str = ""
    fix: str = ""
    fix_command: tuple[str, ...] | None = None
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Break:
    """A challenge's break: commands that damage the finished lab (shown as "something broke")."""

    symptom: str
    commands: tuple[Command, ...]
    sandbox_only: bool = False  # switches a sandbox fault: not offered on a real cluster
    minutes: int | None = None
    objectives: tuple[str, ...] = ()
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Step:
    id: str
    lesson_id: str
    title: str
    text: str
    variant: str | None = None
    manifests: tuple[Manifest, ...] = ()
    commands: tuple[Command, ...] = ()
    checks: tuple[Check, ...] = ()
    hints: tuple[str, ...] = ()
    solve: tuple[Command, ...] | None = None
    cleanup: tuple[Command, ...] = ()
    explanations: tuple[Explanation, ...] = ()
    optional: bool = False
    verify_when: str | None = None  # a doctor fact; when true, the step verifies instead of running
    breaks: Break | None = None  # set: a break-and-fix challenge (the YAML key `break`)
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    @property
    def is_challenge(self) -> bool:
        return self.breaks is not None

    @property
    def target(self) -> str:
        """How the step is addressed on the command line: LESSON/STEP."""
        return f"{self.lesson_id}/{self.id}"

    @property
    def solve_commands(self) -> tuple[Command, ...]:
        """What "solve" runs: `solve` if given, else `commands`."""
        return self.solve if self.solve is not None else self.commands

    def manifest(self, manifest_id: str) -> Manifest:
        for m in self.manifests:
            if m.id == manifest_id:
                return m
        raise KeyError(f"step {self.target} has no manifest {manifest_id!r}")


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    summary: str
    steps: tuple[Step, ...]
    requires: tuple[str, ...] = ()
    variables: dict[str, str] = field(default_factory=dict, hash=False)
    variants: tuple[Variant, ...] = ()
    objectives: tuple[str, ...] = ()
    minutes: int | None = None  # expected minutes for a learner
    instructor_notes: str = ""
    format_version: int = 1
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    @property
    def default_variant(self) -> Variant | None:
        """The variant marked default, else the first, else None (no variants)."""
        for v in self.variants:
            if v.default:
                return v
        return self.variants[0] if self.variants else None

    def variant(self, variant_id: str) -> Variant:
        for v in self.variants:
            if v.id == variant_id:
                return v
        valid = ", ".join(v.id for v in self.variants) or "none"
        raise TargetError(f"lesson {self.id!r} has no variant {variant_id!r}; valid: {valid}")

    def steps_for(self, variant_id: str | None = None) -> tuple[Step, ...]:
        """The steps a learner on that variant walks (default variant if None)."""
        if variant_id is None:
            default = self.default_variant
            variant_id = default.id if default else None
        elif self.variants:
            self.variant(variant_id)
        return tuple(s for s in self.steps if s.variant is None or s.variant == variant_id)

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        valid = ", ".join(s.id for s in self.steps)
        raise TargetError(f"lesson {self.id!r} has no step {step_id!r}; valid steps: {valid}")
