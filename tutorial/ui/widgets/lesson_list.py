"""Lessons and their steps with progress marks; the next step stands out."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutorial.ui.marks import step_mark
from tutorial.ui.messages import Fact


class Outline:
    """What the list shows: lessons, the steps walked (variant applied), states, the next step.
    (A plain class: a dataclass's generated code costs its compile time on every start.)"""

    def __init__(self, lessons: list, steps: dict, states: dict | None, next_target: str | None,
                 variants: dict) -> None:
        self.lessons = lessons  # Lesson objects in order
        self.steps = steps  # lesson id -> [Step]
        self.states = states  # target -> state; None while the cluster's progress is not known yet
        self.next_target = next_target
        self.variants = variants  # lesson id -> variant title (only lessons with variants)


class LessonList(OptionList):
    """One line per lesson and per step; Enter opens a step (or a lesson's first open step)."""

    class StepChosen(Fact):
        target: str

    class LessonChosen(Fact):
        lesson_id: str

    def show(self, outline: Outline) -> None:
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        self.clear_options()
        self.add_options(self._build_options(outline))
        nxt = f"S:{outline.next_target}" if outline.next_target else None
        if outline.states is None:  # progress unknown: start on the first step, as a fresh learner
            nxt = next((f"S:{s[0].target}" for s in outline.steps.values() if s), None)
        # keep the learner's place; if that step left the walk (another variant), stay in its lesson
        lesson = f"L:{keep[2:].split('/', 1)[0]}" if keep else None
        if not (self._highlight(keep) or self._highlight(lesson) or self._highlight(nxt)):
            self.highlighted = 0

    def highlight_target(self, target: str | None) -> None:
        self._highlight(f"S:{target}" if target else None)

    def _highlight(self, option_id: str | None) -> bool:
        if option_id is None:
            return False
        try:
            self.highlighted = self.get_option_index(option_id)
        except Exception:  # the step is not walked on this variant
            return False
        self.scroll_to_highlight(top=False)
        return True

    def _build_options(self, outline: Outline) -> list[Option]:
        options = []
        for number, lesson in enumerate(outline.lessons):
            steps = outline.steps.get(lesson.id, [])
            options.append(Option(self._lesson_prompt(number, lesson, steps, outline), id=f"L:{lesson.id}"))
            for step in steps:
                options.append(Option(self._step_prompt(step, outline), id=f"S:{step.target}"))
        return options

    def _lesson_prompt(self, number: int, lesson, steps, outline: Outline) -> Text:
        if outline.states is None:
            count = f"   {len(steps)} steps, checking…"
        else:
            done = sum(1 for s in steps if outline.states.get(s.target) in ("done", "skipped"))
            count = f"   {done}/{len(steps)} done"
        text = Text.assemble((f"{lesson.order}  {lesson.title}", "bold"), count)
        if lesson.id in outline.variants:
            text.append(f"\n   variant: {outline.variants[lesson.id]}  (v to change)", style="italic")
        return text

    def _step_prompt(self, step, outline: Outline) -> Text:
        state = outline.states.get(step.target, "todo") if outline.states is not None else "checking"
        is_next = step.target == outline.next_target
        mark = step_mark("next" if is_next and state == "todo" else state)
        text = Text.assemble("    ", mark, "  ", step.title)
        if is_next:
            text.stylize("bold")
            text.append("   ← continue here", style="bold")
        return text

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        kind, _, ident = (event.option.id or "").partition(":")
        self.post_message(self.StepChosen(ident) if kind == "S" else self.LessonChosen(ident))

    def highlighted_lesson(self) -> str | None:
        """The lesson of the highlighted line (its header or one of its steps)."""
        option = self.highlighted_option
        if option is None or not option.id:
            return None
        return option.id[2:].split("/", 1)[0]
