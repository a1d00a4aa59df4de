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


class WaitingLine:
    """What waiting checks see now, live: a status line on a terminal ("… Gateway emojivoto:
    Programmed False (AddressNotAssigned), for 12 s"), else one printed line per change."""

    def __init__(self, out, enabled: bool = True):
        self.out, self.enabled = out, enabled
        self.seen: dict[tuple, tuple[str, float]] = {}
        self.status = None

    def __enter__(self) -> "WaitingLine":
        if self.enabled and self.out.is_terminal:
            self.status = self.out.status("Checking the cluster…")
            self.status.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)

    def on_event(self, event) -> None:
        from tutorial.engine.session import CheckFinished, CheckWaiting

        if not self.enabled:
            return
        if isinstance(event, CheckWaiting):
            key = (event.step.target, event.check_id)
            changed = self.seen.get(key, ("",))[0] != event.text
            self.seen[key] = (event.text, event.since)
            if self.status is None and changed:
                self.out.print(f"   [dim]… waiting: {_escape(event.text)}[/]", soft_wrap=True)
        elif isinstance(event, CheckFinished):
            self.seen.pop((event.step.target, event.result.check_id), None)
        if self.status is not None:
            self.status.update(self.line())

    def line(self) -> str:
        import time

        if not self.seen:
            return "Checking the cluster…"
        (target, check_id), (text, since) = next(iter(self.seen.items()))
        more = f"  (+{len(self.seen) - 1} more waiting)" if len(self.seen) > 1 else ""
        return f"{_escape(target)} · {_escape(check_id)}: {_escape(text)}, for {int(time.monotonic() - since)} s{more}"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(str(text))
