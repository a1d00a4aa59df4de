"""What the TUI's thread workers do, without Textual: connect to a cluster, list contexts.

Workers call these blocking functions and post the results as messages. Everything heavy
(the lesson loader, the engine, the sandbox, kubernetes) is imported inside the functions so
the first screen paints before any of it loads; its records are plain classes, not dataclasses
(whose generated methods Python 3.11 compiles one by one at import).
"""

from __future__ import annotations

import os

SANDBOX_CHOICE = "@sandbox"
REAL_CLUSTER_HINT = "A simulated cluster. To use yours: gateway-tutorial --context NAME"


class StartupError(Exception):
    """Start-up cannot go on; `title` and the message are written for the learner."""

    def __init__(self, title: str, message: str, *, fatal: bool = True):
        super().__init__(message)
        self.title = title
        self.fatal = fatal


class Connection:
    """An engine on a cluster, and why we ended up there when it is not what was asked for."""

    def __init__(self, engine, notice: str | None = None) -> None:
        self.engine = engine
        self.notice = notice


def load_lessons(args):
    """The lesson set named by --lessons (or the bundled one); StartupError if it is broken."""
    from tutorial.commands._common import CommandFailed, load_lesson_set

    try:
        return load_lesson_set(args)
    except CommandFailed as exc:
        raise StartupError("The lesson files have problems", str(exc)) from exc


def cached_outline(args):
    """What the lesson list shows, from the lessons cache when it is still valid (cache.outline:
    plain tuples, no YAML parser, no lesson model imported), else None: cheap enough to run before
    the first paint; the lesson set itself, a miss or a broken file go through load_lessons."""
    from pathlib import Path

    from tutorial.lessons.cache import cached_outline as from_cache
    from tutorial.paths import assets_dir, lessons_dir

    try:
        return from_cache(Path(getattr(args, "lessons", None) or lessons_dir()), assets_dir())
    except Exception:  # a speed-up only: the worker loads (and reports) the ordinary way
        return None


def early_progress(args):
    """The progress store of the cluster the app will use, when that is known without connecting:
    the embedded sandbox (--sandbox). None for a kube context (which cluster answers is not known yet)."""
    if not getattr(args, "sandbox", False):
        return None
    from tutorial.engine.progress import ProgressStore
    from tutorial.engine.target import SANDBOX_IDENTITY

    return ProgressStore.for_cluster("sandbox", SANDBOX_IDENTITY)


def connect(args, lessons, choice: str | None = None) -> Connection:
    """An Engine on the chosen cluster: `choice` (a context or SANDBOX_CHOICE), else the
    command line's choice; falls back to the sandbox when the cluster does not answer.
    A lesson pack that is not the bundled one says so in the notice, naming its programs."""
    from tutorial.engine.pack import LessonPack

    connection = _connect(args, lessons, choice)
    pack = connection.engine.pack = LessonPack.of(getattr(args, "lessons", None), lessons)
    if pack is not None:
        connection.notice = f"{pack.notice}\n{connection.notice}" if connection.notice else pack.notice
    return connection


def _connect(args, lessons, choice: str | None) -> Connection:
    from tutorial.engine.target import TargetError, kube_target, probe

    if choice == SANDBOX_CHOICE or (choice is None and getattr(args, "sandbox", False)):
        return _engine(lessons, _sandbox(), None)
    context = choice or getattr(args, "context", None)
    try:
        target = kube_target(getattr(args, "kubeconfig", None), context)
    except TargetError as exc:
        return _engine(lessons, _sandbox(), f"No cluster to use ({_first_line(exc)}), so this is the sandbox.")
    if choice is not None and _unconfirmed_production(args, target):
        return _engine(lessons, _sandbox(), f"{target.context} looks like a production cluster, so the tutorial did "
                       f"not switch to it. To use it anyway, start `gateway-tutorial --context {target.context} "
                       f"--allow-production {target.context}`.")
    problem = probe(target, timeout=3.0)
    if problem:
        target.release()
        return _engine(lessons, _sandbox(), f"{_capital(problem)}. Using the sandbox instead.")
    return _engine(lessons, target, None)


def _unconfirmed_production(args, target) -> bool:
    """A production-looking context picked inside the app, without --allow-production naming it."""
    from tutorial.engine.safety import assess

    return assess(target) is not None and getattr(args, "allow_production", None) != target.context


def _sandbox():
    from tutorial.engine.target import sandbox_target

    try:
        return sandbox_target()
    except Exception as exc:  # the sandbox failing to start is the end of the road
        raise StartupError("The sandbox cluster did not start",
                           f"{exc}\nRun `gateway-tutorial doctor` to see what is missing, "
                           "or point --context at a real cluster.") from exc


def _engine(lessons, target, notice: str | None) -> Connection:
    from tutorial.engine.progress import ProgressStore, check_variants
    from tutorial.engine.session import Engine

    progress = ProgressStore.for_cluster(*target.identity)
    check_variants(progress, lessons)
    if progress.warning:
        notice = f"{notice}\n{progress.warning}" if notice else progress.warning
    return Connection(Engine(lessons, target, progress), notice)


def close(engine) -> None:
    """Close the engine's client and release its target (stops an embedded sandbox we own)."""
    if engine is None:
        return
    engine.close()
    engine.target.release()


def contexts(args) -> tuple[list[tuple[str, str]], str | None, str | None]:
    """([(context, server)], current context, problem) from the kubeconfig kubectl would use."""
    from tutorial.cluster.kubeconfig import KubeconfigError, load_kubeconfig

    try:
        view = load_kubeconfig(getattr(args, "kubeconfig", None), os.environ)
    except KubeconfigError as exc:
        return [], None, str(exc)
    found = [(name, view.server_for(name) or "(no server)") for name in sorted(view.contexts)]
    problem = None if found else "No kubeconfig contexts found; only the sandbox is available."
    return found, view.current_context, problem


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- steps ------------------------------------------------------------------------------
class Finished:
    """How a run/solve/check/reset/fix ended, in the terms the step screen shows."""

    def __init__(self, ok: bool, checks: list, cancelled: bool = False, failure: str | None = None,
                 failed_command: object | None = None, explanation: dict | None = None) -> None:
        self.ok = ok
        self.checks = checks
        self.cancelled = cancelled
        self.failure = failure  # a failed command, in words
        self.failed_command = failed_command  # its CommandResult, for the explanation
        self.explanation = explanation


def run_step(engine, step, mode: str, emit, cancel) -> Finished:
    """Run (or solve) the step: its commands, then its checks (a pack's check commands, listed
    with the commands, are confirmed by r too), recorded in progress."""
    outcome = engine.run_step(step, solve=(mode == "solve"), on_event=emit, cancel=cancel)
    failed = outcome.failed_command
    if failed is None or outcome.cancelled:
        return Finished(outcome.ok, list(outcome.checks), outcome.cancelled)
    return Finished(False, list(outcome.checks), False, command_failure(failed), failed)


def shown_check_commands(engine, step) -> list:
    """A lesson pack's check commands, listed with the step's commands (r confirms both)."""
    from tutorial.engine.pack import shown_check_commands as shown

    return shown(engine, step)


def check_step(engine, step, emit, cancel) -> Finished:
    checks = engine.check_step(step, on_event=emit, cancel=cancel)
    cancelled = cancel.is_set()
    return Finished(not cancelled and all(c.passed for c in checks), checks, cancelled)


def plan_reset(engine, step) -> list[str]:
    """What resetting from this step would delete and keep, from the cluster's journal (dry run)."""
    from tutorial.instructor.reset import plan_lines, undo_from

    plan, _, _ = undo_from(engine, step.target, dry_run=True)
    return plan_lines(plan)


def break_commands(engine, step) -> list:
    """A challenge's break, prepared for showing and running."""
    return [engine._prepare(step, c) for c in step.breaks.commands]


def symptom(engine, step) -> str:
    from tutorial.engine.challenge import symptom as words

    return words(engine, step)


def break_lab(engine, step, emit, cancel) -> Finished:
    """Break the finished lab for a challenge (refused for a sandbox-only one on a real cluster)."""
    from tutorial.engine import challenge

    refusal = challenge.offered(engine, step)
    if refusal:
        return Finished(False, [], failure=refusal)
    results = challenge.break_lab(engine, step, on_event=emit, cancel=cancel)
    if cancel.is_set() or any(r.cancelled for r in results):
        return Finished(False, [], cancelled=True)
    bad = next((r for r in results if not r.ok), None)
    return Finished(False, [], failure=command_failure(bad)) if bad else Finished(True, [])


def reset_step(engine, step, emit, cancel) -> Finished:
    """Undo this step and the ones after it: only what the journal says the tutorial created."""
    from tutorial.instructor.reset import undo_from

    plan, detail, ok = undo_from(engine, step.target, dry_run=False, cancel=cancel)
    _say_what_reset_did(engine, step, plan, emit)
    if cancel.is_set():
        return Finished(False, [], cancelled=True)
    if not ok:
        return Finished(False, [], failure=detail)
    engine.record(step, "todo", "reset from the tutorial")
    return Finished(True, [])


def reset_lines(plan) -> list[str]:
    """What a reset that ran did, one line per object: deleted, already gone, failed; and what it kept."""
    words = {"deleted": "✔ deleted", "gone": "· already gone", "replaced": "· replaced by someone else, kept",
             "failed": "✘ could not delete"}
    lines = [f"{words.get(a.status, a.status)}  {a.how}" for a in plan.actions]
    lines += [f"· kept  {what} ({why})" for what, why in plan.kept]
    return lines or ["nothing to delete: the cluster's journal lists nothing the tutorial created from this "
                     "step on; the step is marked not done."]


def _say_what_reset_did(engine, step, plan, emit) -> None:
    from tutorial.engine.session import StepNote

    for line in reset_lines(plan):
        emit(StepNote(step, line))


def save_yaml(step, text: str) -> str:
    """Keep the step's YAML in a file (the clipboard may not take it); returns the path."""
    from tutorial.paths import state_dir

    path = state_dir() / "yaml" / f"{step.target.replace('/', '--')}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return str(path)


def run_fix(engine, step, argv: list[str], emit, cancel) -> Finished:
    """Run an explanation's fix command, then check the step again."""
    from tutorial.engine.runner import CommandSpec, display_command
    from tutorial.engine.session import PreparedCommand

    spec = CommandSpec(argv=list(argv), timeout=300)
    prepared = PreparedCommand(spec, display_command(spec, engine.target.run_target(), show_env=False))
    result = _run_prepared(engine, [prepared], emit, cancel)
    if not result.ok or result.cancelled:
        return result
    return check_step(engine, step, emit, cancel)


def _run_prepared(engine, prepared_list, emit, cancel) -> Finished:
    results = engine.run_commands(prepared_list, on_event=emit, cancel=cancel)
    last = results[-1] if results else None
    if (last is not None and last.cancelled) or cancel.is_set():
        return Finished(False, [], cancelled=True)
    if last is not None and not last.ok:
        return Finished(False, [], failure=command_failure(last), failed_command=last)
    return Finished(True, [])


def command_failure(result) -> str:
    """A failed command in one or two sentences."""
    if result.explanation:
        return result.explanation
    if result.timed_out:
        return "The command ran out of time and was stopped."
    tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
    return f"The command exited with code {result.exit_code}. {tail[0]}".strip()


def explain(engine, step, done: Finished) -> dict | None:
    """The explanation panel's content for a failure (blocking: it may ask the cluster), kept with
    the step's progress so reopening the step or a restart shows it again."""
    if done.ok or done.cancelled or not (done.failure or any(not c.passed for c in done.checks)):
        return None
    try:
        from tutorial.engine.explain import step_explanation

        explanation = step_explanation(engine, step, done.checks, done.failed_command)
    except Exception:  # the explanation is a help, never a reason to fail the step view
        explanation = None
    explanation = explanation or fallback_explanation(engine, step, done)
    engine.remember_explanation(step, explanation)
    return explanation


def explain_now(engine, step) -> dict | None:
    """What the cluster shows this moment, explained (no waiting); None when every check passes."""
    results = engine.run_checks([(step, c) for c in step.checks], timeout=0)
    if all(r.passed for r in results):
        return None
    from tutorial.engine.explain import step_explanation

    return step_explanation(engine, step, results)


def fallback_explanation(engine, step, done: Finished) -> dict:
    """Generic words when no explanation engine is available: what we saw, the first hint."""
    first_hint = engine.render(step, step.hints[0]) if step.hints else ""
    fix = "Press h for hints, one at a time, or s to solve the step (it asks first)."
    failed_check = next((c for c in done.checks if not c.passed), None)
    if failed_check is not None:
        return {"title": f"Not yet: {failed_check.title}", "observed": failed_check.observed,
                "why": _why(failed_check, first_hint), "fix": fix, "fix_command": None}
    return {"title": "A command failed", "observed": done.failure or "", "why": first_hint or None,
            "fix": "Read the command's output below. " + fix, "fix_command": None}


def _why(check, first_hint: str) -> str:
    if check.unreachable:
        return "The cluster did not answer, so the check could not look. Is it still running?"
    base = "The check watched the cluster until its deadline and did not see what this step needs."
    return f"{base} {first_hint}" if first_hint else base


# -- the learner's own terminal ----------------------------------------------------------
class ShellSetup:
    """What a learner's shell needs for the engine's cluster: the line, a file, the shell command."""

    def __init__(self, label: str, context: str, export_line: str, env_file: str, shell_command: str,
                 embedded: bool) -> None:
        self.label = label
        self.context = context
        self.export_line = export_line
        self.env_file = env_file
        self.shell_command = shell_command
        self.embedded = embedded


def shell_setup(engine) -> ShellSetup:
    """The export line for the engine's cluster, also written to a file to `source`."""
    from tutorial.engine import shellenv

    target = engine.target
    how = "--sandbox" if target.embedded else f"--context {target.context}"
    return ShellSetup(target.label, target.context, shellenv.export_line(target),
                      str(shellenv.env_file(target)), f"gateway-tutorial shell {how}", target.embedded)


def diy_always() -> bool:
    from tutorial.engine.diy import always

    return always()


def set_diy_always(on: bool) -> None:
    from tutorial.engine.diy import set_always

    set_always(on)
