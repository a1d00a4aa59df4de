"""A lesson pack that is not the bundled one: say so, list its programs, gate its check commands.

The bundled lessons' `command_succeeds` checks are read-only facts (`kubectl version --client`)
and run freely. A pack from `--lessons DIR` is someone else's code: before its first command the
learner is told where it comes from and which programs it runs, and its check commands run only
once they were shown and confirmed like the step's commands (`check` never runs one unasked).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.engine.visible import escape_invisible, join_argv

NOT_CONFIRMED = "not confirmed"


def is_bundled(directory: Path) -> bool:
    from tutorial.paths import lessons_dir

    try:
        return Path(directory).resolve() == Path(lessons_dir()).resolve()
    except OSError:
        return False


def _argvs(step):
    for group in (step.commands, step.solve or (), step.cleanup):
        for command in group:
            if not command.show_only:
                yield command.run
    for explanation in step.explanations:
        if explanation.fix_command:
            yield explanation.fix_command
    for chk in step.checks:
        if chk.kind == "command_succeeds":
            yield chk.params.get("run") or ()


def programs(lessons) -> list[str]:
    """Every program the pack's commands, fixes and check commands start, sorted."""
    found = {str(argv[0]) for lesson in lessons.lessons for step in lesson.steps
             for argv in _argvs(step) if argv}
    return sorted(found)


@dataclass
class LessonPack:
    """Where a non-bundled pack comes from, what it runs, and which check commands were confirmed."""

    directory: Path
    programs: list[str]
    confirmed: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, directory, lessons) -> "LessonPack | None":
        """None for the bundled lessons (their checks keep running freely)."""
        if directory is None or is_bundled(Path(directory)):
            return None
        return cls(Path(directory), programs(lessons))

    @property
    def notice(self) -> str:
        names = ", ".join(escape_invisible(p) for p in self.programs) or "nothing"
        return (f"These lessons come from {escape_invisible(str(self.directory))}, not from the bundled "
                f"lessons. They run these programs: {names}. Every command, and every command a check "
                "runs, is shown and asked about before it runs.")

    def allows(self, argv) -> bool:
        with self._lock:
            return tuple(argv) in self.confirmed

    def confirm(self, argvs) -> None:
        with self._lock:
            self.confirmed.update(tuple(a) for a in argvs)


def check_commands(engine, step) -> list[list[str]]:
    """The argv of each `command_succeeds` check of the step, variables filled in."""
    return [list(engine.check_params(step, chk.params).get("run") or [])
            for chk in step.checks if chk.kind == "command_succeeds"]


def unconfirmed_checks(engine, step) -> list[list[str]]:
    """Check commands of a pack that would not run yet (none for the bundled lessons)."""
    pack = getattr(engine, "pack", None)
    if pack is None:
        return []
    return [argv for argv in check_commands(engine, step) if not pack.allows(argv)]


def not_run_text(argv) -> str:
    return (f"not run: `{join_argv(argv)}` comes from a lesson pack and was not confirmed "
            "(`gateway-tutorial run` or r shows it and asks first)")


def shown_check_commands(engine, step) -> list:
    """A pack's check commands as PreparedCommands, to list beside the step's own commands."""
    from tutorial.engine.runner import CommandSpec, display_command
    from tutorial.engine.session import PreparedCommand

    if getattr(engine, "pack", None) is None:
        return []
    shown = []
    for chk in step.checks:
        if chk.kind == "command_succeeds":
            spec = CommandSpec(argv=list(engine.check_params(step, chk.params).get("run") or []),
                               timeout=chk.timeout)
            display = display_command(spec, engine.target.run_target(), show_env=False)
            shown.append(PreparedCommand(spec, display, False, f"the check '{chk.title}' runs this"))
    return shown
