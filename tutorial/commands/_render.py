"""Rich rendering shared by run, check and lessons: symbols and words, never colour alone."""

from __future__ import annotations

MARKS = {
    "done": ("✔", "done", "green"),
    "passed": ("✔", "pass", "green"),
    "failed": ("✘", "FAIL", "red"),
    "todo": ("·", "todo", "dim"),
    "skipped": ("↷", "skipped", "yellow"),
    "running": ("▶", "running", "cyan"),
    "unreachable": ("?", "unreachable", "yellow"),
}


def mark(state: str, marks: dict | None = None) -> str:
    """`state` as rich markup: its symbol and word, coloured (the colour is never all there is)."""
    symbol, word, colour = (marks or MARKS).get(state, ("?", state, "white"))
    return f"[{colour}]{symbol} {word}[/]"


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def check_state(result) -> str:
    if result.passed:
        return "passed"
    return "unreachable" if result.unreachable else "failed"


def print_check(out, result, indent: str = "   ") -> None:
    from rich.markup import escape

    out.print(f"{indent}{mark(check_state(result))}  {escape(result.title)}")
    if not result.passed:
        out.print(f"{indent}      [dim]observed:[/] {escape(result.observed)}")


def check_json(lesson, step, result, explanation=None) -> dict:
    return {"lesson": lesson.id, "step": step.id, "check": result.check_id, "kind": result.kind,
            "title": result.title, "passed": result.passed, "observed": result.observed,
            "unreachable": result.unreachable, "explanation": explanation}
