"""Rich output of the fleet commands: every state has a symbol and a word, never colour alone."""

from __future__ import annotations

from tutorial.commands._render import MARKS as LEARNER_MARKS
from tutorial.commands._render import mark as learner_mark

MARKS = dict(LEARNER_MARKS)
MARKS.update({
    "partial": ("◐", "partial", "yellow"),
    "n/a": ("–", "n/a", "dim"),
    "unknown": ("?", "unknown", "yellow"),
    "ok": ("✔", "ok", "green"),
    "queued": ("·", "queued", "dim"),
    "cancelled": ("■", "cancelled", "yellow"),
    "timeout": ("⌛", "timeout", "red"),
    "present": ("✘", "delete", "red"),
    "deleted": ("✔", "deleted", "green"),
    "gone": ("·", "already gone", "dim"),
    "replaced": ("↷", "kept", "yellow"),
    "kept": ("↷", "keep", "yellow"),
})


def mark(state: str) -> str:
    return learner_mark(state, MARKS)


def wide_console():
    """A console as wide as a terminal allows; when output is not a terminal, wide enough for the matrix."""
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=max(out.width, 220))
    return out


def matrix(statuses, pairs, *, title: str = "Lab clusters"):
    """Clusters x steps, one cell per step, plus reachability and the furthest step reached."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("cluster", no_wrap=True)
    table.add_column("reachable", no_wrap=True)
    numbers = step_numbers(pairs)
    for _, step in pairs:
        table.add_column(numbers[step.target], no_wrap=True)
    table.add_column("at", no_wrap=True)
    for st in statuses:
        reach = "[green]✔ yes[/]" if st.reachable else "[yellow]? no[/]"
        cells = [mark(c.state) for c in st.cells]
        table.add_row(escape(st.context), reach, *cells, escape(st.at or "(start)") if st.reachable else "")
    return table


def step_numbers(pairs) -> dict[str, str]:
    """'2.1'-style numbers: lesson order . step position (what the matrix headers show)."""
    out, lessons = {}, []
    for lesson, step in pairs:
        if lesson.id not in lessons:
            lessons.append(lesson.id)
        index = sum(1 for t in out if t.split("/", 1)[0] == lesson.id) + 1
        out[step.target] = f"{lessons.index(lesson.id)}.{index}"
    return out


def legend(pairs) -> str:
    numbers = step_numbers(pairs)
    return "  ".join(f"{numbers[s.target]} {s.target}" for _, s in pairs)


def summary(runs, *, title: str, extra=None):
    """One row per cluster: outcome (symbol + word), time taken, and what happened or why not."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for col in ("cluster", "result", "time", "detail"):
        table.add_column(col, overflow="fold")
    for run in runs:
        detail = extra(run) if extra else run.detail
        table.add_row(escape(run.context), mark(run.state), f"{run.elapsed:.1f} s", escape(detail or ""))
    return table


def errors(out, runs) -> None:
    """Below the table: every cluster that did not make it, with the full reason."""
    from rich.markup import escape

    bad = [r for r in runs if r.state not in ("ok",)]
    for run in bad:
        out.print(f"{mark(run.state)} [bold]{escape(run.context)}[/] ({escape(run.cluster.server)}): "
                  f"{escape(run.detail or '')}", soft_wrap=True)
