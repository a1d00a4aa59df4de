"""The first screen: every lesson and step with its progress; Enter opens a step."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tutorial.ui.widgets.cluster_bar import ClusterBar
from tutorial.ui.widgets.keys_footer import KeysFooter
from tutorial.ui.widgets.lesson_list import LessonList, Outline


class LessonsScreen(Screen):
    """Lessons, steps and marks; the step to continue with is highlighted on start."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True, tooltip="Open the highlighted step"),
        Binding("v", "variant", "Variant", tooltip="Choose how to do this lesson (Helm or istioctl)"),
        Binding("C", "app.choose_cluster", "Cluster", tooltip="Another kube context, or the sandbox"),
        Binding("t", "app.toggle_theme", "Theme"),
        Binding("exclamation_mark", "app.shell_env", "Your shell", tooltip="export KUBECONFIG=… PATH=… for your terminal"),
        Binding("m", "app.traffic_map", "Map", tooltip="The request's path through the cluster, live"),
    ]

    def compose(self) -> ComposeResult:
        yield ClusterBar()
        yield Label("", id="notice")
        yield LessonList(Option("Loading lessons…", disabled=True), id="lesson-list")
        yield Static("", id="lesson-detail")
        yield KeysFooter()

    FOLLOW_EVERY = 1.0  # seconds: progress written by another terminal shows up this soon

    def on_mount(self) -> None:
        self.query_one("#notice").display = False
        self.query_one(LessonList).focus()
        self._shown_states: dict | None = None
        if self.app.preview is not None or self.app.lessons is not None:  # the cache's outline: in the first frame
            self.app.show_first_outline()
        self.set_interval(self.FOLLOW_EVERY, self._follow_progress)

    def on_screen_resume(self) -> None:
        self.app.refresh_outline()  # a step screen may have run, skipped or reset steps

    def _follow_progress(self) -> None:
        """Redraw when the progress file changed: `run all` in another terminal, a reset, a skip."""
        if self.app.engine is None or self.app.lessons is None or not self.is_current:
            return
        progress = self.app.engine.progress
        states = {t: r.state for t, r in progress.all().items()}
        if progress.warning and progress.warning != self.app.progress_warning_shown:
            # the file became unreadable meanwhile (another program, a full disk): moved aside, said
            self.app.progress_warning_shown = progress.warning
            self.show_notice(progress.warning)
            self.app.notify(progress.warning, title="Progress started fresh", severity="warning", timeout=20)
        if states != self._shown_states:
            self.app.refresh_outline()

    def show_outline(self, outline: Outline, resume: str | None = None) -> None:
        self._shown_states = dict(outline.states) if outline.states is not None else None
        lessons = self.query_one(LessonList)
        lessons.show(outline)
        if resume:
            lessons.highlight_target(resume)

    def show_notice(self, text: str | None) -> None:
        notice = self.query_one("#notice", Label)
        notice.update(Content(text or ""))
        notice.display = bool(text)

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "variant":
            lesson = self._lesson()
            return bool(lesson is not None and lesson.variants and self.app.engine)  # hidden elsewhere
        if action == "open":
            return True if self.app.engine is not None else None
        return True

    def _lesson(self):
        lesson_id = self.query_one(LessonList).highlighted_lesson()
        if lesson_id is None or self.app.lessons is None:
            return None
        return self.app.lessons.lesson(lesson_id)

    def action_open(self) -> None:
        self.query_one(LessonList).action_select()

    @on(LessonList.StepChosen)
    def _open_step(self, message: LessonList.StepChosen) -> None:
        self.app.open_step(message.target)

    @on(LessonList.LessonChosen)
    def _open_lesson(self, message: LessonList.LessonChosen) -> None:
        target = self.app.first_open_step(message.lesson_id)
        if target:
            self.app.open_step(target)

    _bindings_for: str | None = None  # the lesson the footer's keys were last worked out for

    @on(OptionList.OptionHighlighted)
    def _describe(self, event: OptionList.OptionHighlighted) -> None:
        lesson = self.query_one(LessonList).highlighted_lesson()
        if lesson != self._bindings_for:  # "v Variant" depends on the lesson; a footer rebuild restyles it all
            self._bindings_for = lesson
            self.refresh_bindings()
        self.query_one("#lesson-detail", Static).update(self.app.describe(event.option.id or ""))

    def action_variant(self) -> None:
        from tutorial.ui.screens.modals import variant_picker

        lesson = self._lesson()
        if lesson is None or not lesson.variants:
            return
        current = self.app.engine.progress.variant(lesson.id) or lesson.default_variant.id

        def chosen(variant: str | None) -> None:
            if variant and variant != current:
                self.app.engine.progress.set_variant(lesson.id, variant)
                self.notify(f"{lesson.title}: {lesson.variant(variant).title}")
                self.app.refresh_outline()

        self.app.push_screen(variant_picker(lesson, current), chosen)
