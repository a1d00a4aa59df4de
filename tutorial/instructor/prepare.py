"""`prepare TARGET`: bring every selected cluster to the state after TARGET, concurrently.

Each cluster runs each step's solve commands in tutorial order (skipping steps whose checks
already pass), recording what it creates in the cluster's journal. The first step that fails
stops that cluster only, with the reason: the failing check's observation, or the command's
exit code and the tail of its stderr.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutorial.instructor.fleet import ClusterRun

SKIP_CHECK_TIMEOUT = 0.0  # "already done?" looks at the cluster once, without waiting


@dataclass
class Prepared:
    """What preparing one cluster did."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_step: str | None = None
    reason: str = ""
    total: int = 0


def prepare_cluster(run: ClusterRun, target: str, on_step=None) -> Prepared:
    """Run steps up to TARGET on one cluster; sets run.state/detail when a step fails."""
    engine = run.engine
    with engine.steady_commands():
        return _prepare_steps(run, engine, target, on_step)


def _prepare_steps(run: ClusterRun, engine, target: str, on_step) -> Prepared:
    from tutorial.engine import journal

    pairs = engine.steps(target)
    done = Prepared(total=len(pairs))
    previous = None  # the last journaled step's after-snapshot: the next one starts from it
    for index, (_, step) in enumerate(pairs):
        if run.cancel.is_set():
            run.state, run.detail = "cancelled", f"stopped before {step.target}"
            return done
        if on_step:
            on_step(run, index, step.target)
        # One connection pool for all steps: a watch a check stops reading early closes its
        # connection (ClusterClient.watch) instead of returning it half-read to the pool. A
        # fresh pool per step cost ~25 TLS handshakes per cluster, on both sides.
        if _already_done(engine, step):
            done.skipped.append(step.target)
            journal.record_satisfied(engine, step, strict=True)
            _local_setup(engine, step, run.cancel)
            previous = None
            continue
        with journal.journaled(engine, step, strict=True, previous=previous) as watch:
            outcome = run_solve(engine, step, run.cancel)
        previous = watch.after if watch is not None else None
        if not outcome.ok:
            done.failed_step, done.reason = step.target, explain_failure(outcome)
            run.state, run.detail = "failed", f"{step.target}: {done.reason}"
            return done
        done.ran.append(step.target)
    if on_step:
        on_step(run, len(pairs), "")
    run.detail = f"at {pairs[-1][1].target}" if pairs else "nothing to do"
    return done


def run_solve(engine, step, cancel):
    """Engine.run_step(solve=True) without the commands that only show something to a learner
    (`kubectl get`, `helm version`...): nobody reads them during a fleet prepare, and each costs a
    process start. Stops at the first failing command; then the step's checks (recorded)."""
    from tutorial.engine.runner import run_command
    from tutorial.engine.session import StepOutcome
    from tutorial.instructor.stepscope import display_only

    outcome = StepOutcome(step)
    for prepared in engine.prepare(step, solve=True):
        if prepared.show_only or display_only(list(prepared.spec.argv)):
            continue
        result = run_command(prepared.spec, engine.target.run_target(), cancel=cancel)
        outcome.commands.append(result)
        if result.cancelled or cancel.is_set():
            outcome.cancelled = True
            return outcome
        if not result.ok:
            engine.record(step, "failed", f"command failed: {prepared.display.splitlines()[0]}")
            return outcome
    outcome.checks = engine.check_step(step, cancel=cancel, ran=True)
    outcome.cancelled = cancel.is_set()
    return outcome


def _already_done(engine, step) -> bool:
    """True when the step has checks and they all pass right now (then it is recorded done)."""
    if not step.checks:
        return False
    local = [(step, c) for c in step.checks if c.kind == "command_succeeds"]  # a command needs its own time
    remote = [(step, c) for c in step.checks if c.kind != "command_succeeds"]
    results = engine.run_checks(remote, timeout=SKIP_CHECK_TIMEOUT)
    if not all(r.passed for r in results):
        return False
    results += engine.run_checks(local)
    if all(r.passed for r in results):
        engine.record(step, "done")
        return True
    return False


def _local_setup(engine, step, cancel) -> None:
    """Run a skipped step's commands that only set up this machine (`helm repo add/update`):
    later steps (another Helm chart from the same repository) need them."""
    from tutorial.engine.runner import run_command

    for prepared in engine.prepare(step, solve=True):
        argv = list(prepared.spec.argv)
        if argv[:2] == ["helm", "repo"] and not prepared.show_only:
            run_command(prepared.spec, engine.target.run_target(), cancel=cancel)


def explain_failure(outcome) -> str:
    """One or two lines: why the step did not pass."""
    if outcome.cancelled:
        return "cancelled"
    bad = outcome.failed_command
    if bad is not None:
        tail = [line for line in (bad.stderr or bad.stdout or "").strip().splitlines() if line.strip()][-2:]
        what = " ".join(bad.argv[:4])
        return f"`{what}` exited {bad.exit_code}" + (f": {' / '.join(tail)}" if tail else f" ({bad.explanation})")
    failing = [c for c in outcome.checks if not c.passed]
    if failing:
        return f"check {failing[0].title!r} failed: {failing[0].observed}"
    return "did not pass"
