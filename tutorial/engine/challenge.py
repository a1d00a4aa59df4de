"""Break-and-fix challenges: the tutorial breaks the finished lab, the learner repairs it.

A challenge is a step with a `break` section (lessons/07-*.yaml). `break_lab` runs the break
commands, shown to the learner as "something broke", and records the step as started; the step's
checks then watch (do it yourself) until the path works again. A full run of a challenge (`run`,
`prepare`, the tests) is the break followed by the documented repair (`solve`), so running the
whole tutorial leaves the lab working.
"""

from __future__ import annotations

import threading

from tutorial.lessons.models import Step

SANDBOX_ONLY = ("This challenge switches a fault of the simulated cluster (the sandbox-faults ConfigMap); "
                "it is offered on the sandbox only, not on a real cluster.")


def offered(engine, step: Step) -> str:
    """Why the challenge cannot run on this cluster, or "" when it can."""
    if step.breaks is not None and step.breaks.sandbox_only and not engine.target.sandbox:
        return SANDBOX_ONLY
    return ""


def symptom(engine, step: Step) -> str:
    """What the learner reads once the lab is broken: never the cause."""
    return f"Something broke: {engine.render(step, step.breaks.symptom).strip()}"


def break_lab(engine, step: Step, *, on_event=None, cancel: threading.Event | None = None) -> list:
    """Run the challenge's break commands (journaled like a step's own) and say what broke.

    Returns the command results; the learner then investigates and repairs in their own shell.
    """
    from tutorial.engine import journal
    from tutorial.engine.session import StepNote

    emit = on_event or (lambda event: None)
    refusal = offered(engine, step)
    if refusal:
        raise ValueError(refusal)
    prepared = [engine._prepare(step, c) for c in step.breaks.commands]
    with journal.journaled(engine, step):
        results = engine.run_commands(prepared, on_event=emit, cancel=cancel)
    if all(r.ok for r in results):
        engine.record(step, "todo", "the lab was broken on purpose; repair it")
        emit(StepNote(step, symptom(engine, step)))
    return results


def full_run(engine, step: Step) -> list:
    """What `run` executes for a challenge: the break, then the documented repair."""
    return [engine._prepare(step, c) for c in (*step.breaks.commands, *step.solve_commands)]
