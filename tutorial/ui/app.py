"""TutorialApp: lessons on the left of the learner's mind, the cluster at the top of the screen.

The first frame already lists the lessons when the lesson cache is valid: its outline (plain tuples,
no YAML parser, no lesson model imported); a thread worker reads the whole lesson set once that frame
is painted. On a cache miss the worker parses them first. Marks that depend on the cluster say "checking…" until
its progress is known. Only once the list is on screen does the worker connect (the current
context, else the sandbox), which imports kubernetes and holds the GIL for a while.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from textual import on, work
from textual.app import App
from textual.binding import Binding

from tutorial.ui import backend
from tutorial.ui.commands import TutorialCommands
from tutorial.ui.marks import next_step
from tutorial.ui.messages import (ContextsListed, EngineReady, LessonsLoaded, ProgressRead, ResourcesChanged,
                                  StartupFailed)
from tutorial.ui.screens.lessons import LessonsScreen
from tutorial.ui.widgets.cluster_bar import ClusterBar
from tutorial.ui.widgets.lesson_list import Outline

SCREENS_CSS = Path(__file__).with_name("screens.tcss")


class TutorialApp(App):
    """The interactive tutorial; build it with tutorial.commands.tui.make_app(args)."""

    CSS_PATH = "app.tcss"
    TITLE = "Gateway API tutorial"
    COMMANDS = App.COMMANDS | {TutorialCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("C", "choose_cluster", "Cluster", show=False),
        Binding("m", "traffic_map", "Map", show=False),
        Binding("exclamation_mark", "shell_env", "Your shell", show=False),
        Binding("R", "recap", "Recap", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, args):
        super().__init__()
        self.args = args
        self.lessons = None
        self.preview = None  # the lessons cache's outline (cache.outline), listed until the lessons load
        self.engine = None
        self.early_progress = None  # the progress store before the engine exists (sandbox only)
        self._listed = threading.Event()  # set once the lesson list is on screen
        self.show_resources = False
        self.resource_rows: dict[str, tuple[list[dict], str | None]] = {}
        self._cancels: set[threading.Event] = set()
        self._watch_cancel: threading.Event | None = None
        self.progress_warning_shown: str | None = None  # the engine's progress file moved aside, as said
        self._screens_css = False  # screens.tcss added to the stylesheet
        # An engine the connect worker made is handed over under this lock: one the app has not
        # adopted yet is closed by on_unmount, one made after unmount by the worker itself (a quit
        # or a closed terminal while connecting must not leave the embedded sandbox running).
        self._handover = threading.Lock()
        self._unadopted = None
        self._unmounted = False

    def get_driver_class(self):
        from tutorial.ui.terminal import driver_class

        return driver_class(super().get_driver_class())  # notices a terminal that went away

    def get_default_screen(self) -> LessonsScreen:
        return LessonsScreen()

    def on_load(self) -> None:
        self.preview = backend.cached_outline(self.args)  # before the screen composes: its first frame lists them

    def on_mount(self) -> None:
        self.call_after_refresh(self._start)  # connecting waits for the list to be painted (_listed)

    def on_resize(self, event) -> None:
        self.set_class(event.size.height < 30, "-short")  # the output log gives the step text room
        self.set_class(event.size.width < 100, "-narrow")  # compact footer keys

    # -- start-up and cluster choice -------------------------------------------------------
    @work(thread=True, exclusive=True, group="connect", name="connect")
    def _start(self, choice: str | None = None, previous=None) -> None:
        try:
            backend.close(previous)  # first: the embedded sandbox is one per process
            lessons = self._lessons_before_connecting(choice)
            connection = backend.connect(self.args, lessons, choice)
        except backend.StartupError as exc:
            self.post_message(StartupFailed(exc.title, str(exc), exc.fatal))
            return
        except Exception as exc:  # a bug: say so instead of dying with a traceback
            self.post_message(StartupFailed("The tutorial could not start", f"{type(exc).__name__}: {exc}"))
            return
        with self._handover:
            late = self._unmounted
            if not late:
                self._unadopted = connection.engine
        if late:  # the app left while this cluster was connecting: nobody will use it
            backend.close(connection.engine)
            return
        self.post_message(EngineReady(connection.engine, connection.notice))

    def _lessons_before_connecting(self, choice: str | None):
        """(worker) Lessons read (after the paint of the cache's outline) or parsed (cache missed), the
        sandbox's progress read, and the list painted, before connecting: kubernetes' import would
        otherwise delay the paint."""
        if self.lessons is None:
            if self.preview is not None:
                self._listed.wait(timeout=2.0)  # listed from the outline: unpickling waits for the paint
            lessons = backend.load_lessons(self.args)
            self.post_message(LessonsLoaded(lessons))
        else:
            lessons = self.lessons
        self._listed.wait(timeout=2.0)  # a bound, so a stalled screen never stops the connection
        if choice is None and self.engine is None:
            progress = backend.early_progress(self.args)
            if progress is not None:
                self.post_message(ProgressRead(progress))
        return lessons

    def show_first_outline(self) -> None:
        """The lesson list as soon as lessons are known; connecting waits for it to be painted."""
        self.refresh_outline()
        self.call_after_refresh(self._listed.set)
        self.call_after_refresh(self.load_screens_css)

    def load_screens_css(self) -> None:
        """Add the other screens' rules (screens.tcss) to the stylesheet, once: after the first frame,
        or before the first screen is pushed if that comes sooner. Only the new file is parsed."""
        if self._screens_css:
            return
        self._screens_css = True
        self.stylesheet.read(SCREENS_CSS)
        self.stylesheet.update(self)

    def push_screen(self, screen, *args, **kwargs):
        self.load_screens_css()  # its rules are in place before the screen is styled
        return super().push_screen(screen, *args, **kwargs)

    @on(LessonsLoaded)
    def _lessons_loaded(self, message: LessonsLoaded) -> None:
        from tutorial.lessons.cache import outline

        self.lessons = message.lessons
        if self.preview is None or outline(self.lessons) != self.preview:  # else it is what is listed
            self.show_first_outline()

    @on(ProgressRead)
    def _progress_read(self, message: ProgressRead) -> None:
        if self.engine is None:
            self.early_progress = message.progress
            self.refresh_outline()
            if message.progress.warning:  # a file moved aside now is not seen again by the engine's read
                self._lessons_screen().show_notice(message.progress.warning)

    @on(EngineReady)
    def _engine_ready(self, message: EngineReady) -> None:
        with self._handover:
            if self._unadopted is message.engine:
                self._unadopted = None
        self.engine = message.engine
        self.progress_warning_shown = self.engine.progress.warning  # in message.notice
        self.update_cluster_bars()
        lessons_screen = self._lessons_screen()
        early = self.early_progress.warning if self.early_progress is not None else None
        lessons_screen.show_notice("\n".join(t for t in (early, message.notice) if t))
        # Enter opens the "← continue here" step; the step last open only when all are done.
        self.refresh_outline(resume=self.outline().next_target or self.engine.progress.current)
        lessons_screen.refresh_bindings()
        if self.show_resources:
            self.start_resource_watch()

    @on(StartupFailed)
    def _startup_failed(self, message: StartupFailed) -> None:
        def closed(_):
            if message.fatal:
                self.exit(return_code=2)

        from tutorial.ui.screens.modals import ErrorModal, FatalErrorModal

        modal = FatalErrorModal(message.title, message.message) if message.fatal else \
            ErrorModal(message.title, message.message)
        self.push_screen(modal, closed)

    def action_traffic_map(self) -> None:
        """The request's path through the cluster, live, with where it breaks."""
        from tutorial.ui.screens.traffic_map import TrafficMapScreen

        if self.engine is None:
            self.notify("Still connecting to the cluster; one moment.")
            return
        if not isinstance(self.screen, TrafficMapScreen):
            self.push_screen(TrafficMapScreen())

    def action_recap(self) -> None:
        """What the learner built: the map, who owns what and why, the commands, what next."""
        from tutorial.ui.screens.recap import RecapScreen

        if self.engine is None:
            self.notify("Still connecting to the cluster; one moment.")
            return
        if not isinstance(self.screen, RecapScreen):
            self.push_screen(RecapScreen())

    def action_diy_always(self) -> None:
        """The global do-it-yourself preference: every step opens waiting for the learner's shell."""
        on = not backend.diy_always()
        backend.set_diy_always(on)
        self.notify("Every step now waits for you to run its commands in your shell (d on a step "
                    "switches it off there)." if on else "Steps open normally again: r runs them.")

    def action_shell_env(self) -> None:
        """export KUBECONFIG=… PATH=… for the learner's own terminal: shown, copied, kept in a file."""
        from tutorial.ui.screens.shell_env import ShellEnvModal

        if self.engine is None:
            self.notify("Still connecting to the cluster; one moment.")
            return
        setup = backend.shell_setup(self.engine)
        self.copy_to_clipboard(setup.export_line)
        self.push_screen(ShellEnvModal(setup, copied=True))

    def action_choose_cluster(self) -> None:
        self._list_contexts()

    @work(thread=True, exclusive=True, group="contexts")
    def _list_contexts(self) -> None:
        self.post_message(ContextsListed(*backend.contexts(self.args)))

    @on(ContextsListed)
    def _pick_cluster(self, message: ContextsListed) -> None:
        from tutorial.ui.screens.modals import cluster_picker

        if self.engine is not None and self.engine.target.embedded:
            current = backend.SANDBOX_CHOICE
        else:
            current = self.engine.target.context if self.engine else message.current

        def chosen(choice: str | None) -> None:
            if choice and choice != current:
                self._forget_screens()
                self._stop_resource_watch()
                self.resource_rows.clear()
                previous, self.engine = self.engine, None
                self.early_progress = None  # the next cluster's marks say "checking…" until it answers
                self.update_cluster_bars()
                self._lessons_screen().refresh_bindings()
                self._start(choice, previous)

        self.push_screen(cluster_picker(message.contexts, current, message.problem), chosen)

    def _forget_screens(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    # -- what every screen shows -------------------------------------------------------------
    def update_cluster_bars(self) -> None:
        target = self.engine.target if self.engine is not None else None
        for screen in self.screen_stack:
            for bar in screen.query(ClusterBar):
                if target is None:
                    bar.show("connecting…", "", False)
                else:
                    bar.show(target.context, target.server, target.sandbox)

    def _lessons_screen(self) -> LessonsScreen:
        return next(s for s in self.screen_stack if isinstance(s, LessonsScreen))

    def walk(self) -> list:
        """(lesson, step) pairs the learner walks, with their chosen variants."""
        if self.engine is not None:
            return self.engine.steps("all")
        return self.lessons.resolve_target("all") if self.lessons is not None else []

    def outline(self) -> Outline:
        """What the lesson list shows; states are None ("checking…") while no progress is known."""
        if self.lessons is None:
            return _preview_outline(self.preview)
        progress = self.engine.progress if self.engine else self.early_progress
        chosen = _variants(progress, self.lessons)
        walk = self.engine.steps("all") if self.engine else self.lessons.resolve_target("all", chosen)
        states = {t: r.state for t, r in progress.all().items()} if progress is not None else None
        steps: dict = {}
        for lesson, step in walk:
            steps.setdefault(lesson.id, []).append(step)
        variants = {l.id: l.variant(chosen.get(l.id) or l.default_variant.id).title
                    for l in self.lessons.lessons if l.variants}
        nxt = next_step(walk, states) if states is not None else None
        return Outline(list(self.lessons.lessons), steps, states, nxt, variants)

    def refresh_outline(self, resume: str | None = None) -> None:
        if self.lessons is not None or self.preview is not None:
            self._lessons_screen().show_outline(self.outline(), resume)

    def describe(self, option_id: str) -> str:
        """The lesson summary (and step title) under the list for the highlighted line."""
        if (self.lessons is None and self.preview is None) or not option_id:
            return ""
        ident = option_id[2:]
        lesson_id = ident.split("/", 1)[0]
        if self.lessons is None:
            summary = next((row[3] for row in self.preview if row[0] == lesson_id), "")
        else:
            summary = self.lessons.lesson(lesson_id).summary
        if self.engine is None:
            return f"{summary}\nConnecting to the cluster…"
        return f"{summary}\nEnter opens {'this step' if '/' in ident else 'its next open step'}; ? shows every key."

    def first_open_step(self, lesson_id: str) -> str | None:
        walk = [s for l, s in self.walk() if l.id == lesson_id]
        states = {t: r.state for t, r in self.engine.progress.all().items()}
        target = next_step([(None, s) for s in walk], states)
        return target or (walk[0].target if walk else None)

    def open_step(self, target: str) -> None:
        if self.engine is None:
            self.notify("Still connecting to the cluster; one moment.")
            return
        from tutorial.ui.screens.step import StepScreen

        self.push_screen(StepScreen(target))

    # -- the live resource pane --------------------------------------------------------------
    def toggle_resources(self) -> None:
        from tutorial.ui.widgets.resource_pane import ResourcePane

        self.show_resources = not self.show_resources
        for screen in self.screen_stack:
            for pane in screen.query(ResourcePane):
                pane.display = self.show_resources
        if self.show_resources:
            self.start_resource_watch()
        else:
            self._stop_resource_watch()

    def _stop_resource_watch(self) -> None:
        if self._watch_cancel is not None:
            self._watch_cancel.set()
            self._watch_cancel = None

    def fill_resources(self, pane) -> None:
        pane.display = self.show_resources
        for label, (rows, problem) in self.resource_rows.items():
            pane.update_kind(label, rows, problem)

    def start_resource_watch(self) -> None:
        from tutorial.ui.watch import WATCHED, lesson_namespaces

        if self.engine is None:
            return
        if self._watch_cancel is not None:
            self._watch_cancel.set()
        self._watch_cancel = cancel = threading.Event()
        self.track_cancel(cancel)
        namespaces = lesson_namespaces(self.engine.lessons)
        for watched in WATCHED:
            self._watch(self.engine, watched, namespaces, cancel)

    @work(thread=True, group="watch")
    def _watch(self, engine, watched, namespaces, cancel: threading.Event) -> None:
        from tutorial.ui.watch import follow

        def publish(w, rows, problem):
            self.post_message(ResourcesChanged(w.label, rows, problem))

        try:
            follow(engine.client, watched, namespaces, cancel, publish)
        except Exception as exc:  # the pane is a convenience: say what broke, keep going
            publish(watched, [], f"{watched.kind}s: {exc}")
        finally:
            self.untrack_cancel(cancel)

    @on(ResourcesChanged)
    def _resources_changed(self, message: ResourcesChanged) -> None:
        from tutorial.ui.widgets.resource_pane import ResourcePane

        self.resource_rows[message.label] = (message.rows, message.problem)
        for screen in self.screen_stack:
            for pane in screen.query(ResourcePane):
                pane.update_kind(message.label, message.rows, message.problem)

    # -- app-wide actions ----------------------------------------------------------------------
    def action_help(self) -> None:
        from tutorial.ui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def track_cancel(self, event: threading.Event) -> None:
        self._cancels.add(event)

    def untrack_cancel(self, event: threading.Event) -> None:
        self._cancels.discard(event)

    async def action_quit(self, return_code: int = 0) -> None:
        """Stop what runs (its process group ends), wait for the workers, keep progress, exit."""
        for event in list(self._cancels):
            event.set()
        for worker in list(self.workers):
            if worker.group in ("step", "watch"):
                try:
                    await worker.wait()
                except Exception:  # it failed or was cancelled: it has stopped either way
                    pass
        self.exit(return_code=return_code)

    def terminal_gone(self, reason: str) -> None:
        """(terminal.TerminalDriver) The terminal went away: leave as q does, exit 129 (128+SIGHUP)."""
        self.log.warning(f"leaving: {reason}")
        self.run_worker(self.action_quit(return_code=129), group="leave", exclusive=True)

    def on_unmount(self) -> None:
        for event in list(self._cancels):
            event.set()
        with self._handover:
            self._unmounted = True
            pending, self._unadopted = self._unadopted, None
        backend.close(self.engine)
        if pending is not None and pending is not self.engine:
            backend.close(pending)  # connected, but its EngineReady never got handled
        self.engine = None


def _preview_outline(preview: tuple) -> Outline:
    """The Outline of the lessons cache's outline: default variants, progress not known yet."""
    lessons, steps, variants = [], {}, {}
    for lesson_id, order, title, summary, variant, walked in preview:
        lessons.append(SimpleNamespace(id=lesson_id, order=order, title=title, summary=summary))
        steps[lesson_id] = [SimpleNamespace(target=target, title=name) for target, name in walked]
        if variant is not None:
            variants[lesson_id] = variant
    return Outline(lessons, steps, None, None, variants)


def _variants(progress, lessons) -> dict[str, str]:
    """lesson id -> the variant chosen in this progress store (none chosen: the lesson's default)."""
    if progress is None:
        return {}
    # a remembered variant the lesson no longer has is left out here; connecting moves such a
    # progress file aside and says so (progress.check_variants)
    return {l.id: progress.variant(l.id) for l in lessons.lessons
            if progress.variant(l.id) in {v.id for v in l.variants}}
