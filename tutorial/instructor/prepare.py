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
    from tutorial.engine import journal

    engine = run.engine
    pairs = engine.steps(target)
    done = Prepared(total=len(pairs))
    for index, (_, step) in enumerate(pairs):
        if run.cancel.is_set():
            run.state, run.detail = "cancelled", f"stopped before {step.target}"
            return done
        if on_step:
            on_step(run, index, step.target)
        if _already_done(engine, step):
            done.skipped.append(step.target)
            continue
        with journal.journaled(engine, step, strict=True):
            outcome = engine.run_step(step, solve=True, cancel=run.cancel)
        if not outcome.ok:
            done.failed_step, done.reason = step.target, explain_failure(outcome)
            run.state, run.detail = "failed", f"{step.target}: {done.reason}"
            return done
        done.ran.append(step.target)
    if on_step:
        on_step(run, len(pairs), "")
    run.detail = f"at {pairs[-1][1].target}" if pairs else "nothing to do"
    return done


def _already_done(engine, step) -> bool:
    """True when the step has checks and they all pass right now (then it is recorded done)."""
    if not step.checks:
        return False
    results = engine.check_step(step, timeout=SKIP_CHECK_TIMEOUT, record=False)
    if results and all(r.passed for r in results):
        engine.record(step, "done")
        return True
    return False


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
