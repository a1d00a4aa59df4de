"""Progress and check marks: always a symbol AND a word, never colour alone."""

from __future__ import annotations

STEP_MARKS = {
    "done": ("✔", "done"),
    "skipped": ("↷", "skipped"),
    "failed": ("✘", "failed"),
    "todo": ("○", "todo"),
    "next": ("▶", "next"),
    "checking": ("…", "checking"),  # progress not known yet (the cluster is being connected)
}

CHECK_MARKS = {
    "waiting": ("…", "waiting"),
    "passed": ("✔", "passed"),
    "failed": ("✘", "failed"),
    "yours": ("◌", "not yet"),  # do it yourself: not true yet, and the tutorial keeps watching
    "unreachable": ("?", "no answer"),
    "idle": ("○", "not run"),
}


def step_mark(state: str) -> str:
    symbol, word = STEP_MARKS.get(state, STEP_MARKS["todo"])
    return f"{symbol} {word:<7}"


def check_mark(state: str) -> str:
    symbol, word = CHECK_MARKS.get(state, CHECK_MARKS["idle"])
    return f"{symbol} {word:<9}"


def next_step(pairs, states: dict[str, str]) -> str | None:
    """The first step (in tutorial order) that is neither done nor skipped."""
    for _lesson, step in pairs:
        if states.get(step.target, "todo") not in ("done", "skipped"):
            return step.target
    return None
