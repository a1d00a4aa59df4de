"""One step: teaching text, YAML, commands, checks; run, check, hints, solve, skip, reset.

Nothing runs until the learner presses r (or confirms solve, reset or a fix). Every engine call
happens in one exclusive thread worker that gets a cancel Event and posts messages back.
"""

from __future__ import annotations

import threading

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, Static

from tutorial.ui import backend
from tutorial.ui.marks import step_mark
from tutorial.ui.messages import (CheckCompleted, CheckObserved, CommandFinished, CommandStarted,
                                  ExplanationReady, OutputReceived, StatusChanged, StepFinished)
from tutorial.ui.screens.modals import ConfirmModal
from tutorial.ui.widgets.cluster_bar import ClusterBar
from tutorial.ui.widgets.command_output import CommandOutput
from tutorial.ui.widgets.resource_pane import ResourcePane
from tutorial.ui.widgets.step_parts import CheckList, CommandList, ExplanationPanel, HintList, ManifestView



def more_keys(has_yaml: bool) -> str:
    """The keys the footer has no room for; `y` only where there is YAML to copy."""
    keys = ["p previous", "k skip", "u reset", *(["y copy YAML", "E edit YAML"] if has_yaml else []),
            "w live resources", "d do it yourself", "m map", "! your shell", "R recap"]
    return "More keys: " + " · ".join(keys)


BUSY_ONLY = {"stop"}
IDLE_ONLY = {"run", "check", "solve", "skip", "reset", "next_step", "previous_step", "fix"}


class StepScreen(Screen):
    """The step `target` of the walk; n/p replace this screen with the neighbouring step."""

    BINDINGS = [
        Binding("r", "run", "Run", tooltip="Run the commands shown, then the checks"),
        Binding("x", "stop", "Stop", tooltip="Stop the running command"),
        Binding("e", "explain_now", "Explain now", tooltip="Explain what the waiting checks see now"),
        Binding("c", "check", "Check"),
        Binding("h", "hint", "Hint"),
        Binding("s", "solve", "Solve"),
        Binding("f", "fix", "Fix"),
        Binding("n", "next_step", "Next"),
        Binding("p", "previous_step", "Prev", show=False),
        Binding("k", "skip", "Skip", show=False),
        Binding("u", "reset", "Reset", show=False),
        Binding("y", "copy_yaml", "Copy YAML", show=False),
        Binding("w", "toggle_resources", "Resources", show=False),
        Binding("d", "diy", "Do it yourself", show=False),
        Binding("E", "edit_yaml", "Edit YAML", show=False),
        Binding("escape", "back", "Back", tooltip="Back to the lesson list"),
    ]

    def __init__(self, target: str):
        super().__init__()
        self.engine = self.app.engine
        self.step = self.engine.lessons.step(target)
        self.lesson = self.engine.lessons.lesson(self.step.lesson_id)
        self.busy = False
        self._checking = False  # checks are waiting (explain-now makes sense)
        self._cancel: threading.Event | None = None
        self._runnable = 0
        self._ended = 0

    # -- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ClusterBar()
        yield Label(self._heading(), id="step-heading")
        with Horizontal(id="step-main"):
            with VerticalScroll(id="step-body"):
                yield Markdown(self.engine.render(self.step, self.step.text), id="step-text")
                for manifest in () if self.step.breaks else self.step.manifests:  # a challenge hides its cause
                    yield ManifestView(manifest.title or manifest.id, self.engine.manifest_text(self.step, manifest.id))
                yield CommandList(self._shown_commands(), id="step-commands")
                yield CheckList(self.step.checks, id="step-checks")
                yield ExplanationPanel(id="explanation")
                yield HintList([self.engine.render(self.step, h) for h in self.step.hints], id="hints")
                yield Static(more_keys(bool(self.step.manifests)), id="more-keys")
            yield ResourcePane(id="resources")
        yield CommandOutput(id="output")
        yield Footer()

    def _shown_commands(self) -> list:
        """What r runs; for a challenge, the break only (its repair is the learner's to find)."""
        if self.step.breaks:
            return backend.break_commands(self.engine, self.step)
        return self.engine.prepare(self.step) + backend.shown_check_commands(self.engine, self.step)

    def on_mount(self) -> None:
        self.app.update_cluster_bars()
        self.query_one(ExplanationPanel).hide()
        self.app.fill_resources(self.query_one(ResourcePane))
        self.query_one("#step-body").focus()
        self.engine.progress.set_current(self.step.target)
        self.set_interval(1.0, self.query_one(CheckList).tick)
        self._show_last_verdict()
        if backend.diy_always():
            self.action_diy()

    def _show_last_verdict(self) -> None:
        """The last check's verdict and explanation, kept in progress until the step is checked again."""
        record = self.engine.progress.get(self.step.target)
        verdict = record.verdict or {}
        if record.state != "failed" or not verdict:
            return
        for row in verdict.get("checks") or []:
            if isinstance(row, dict) and row.get("check") in {c.id for c in self.step.checks}:
                self.query_one(CheckList).set_state(row["check"], "passed" if row.get("passed") else "failed",
                                                    str(row.get("observed") or ""))
        if isinstance(verdict.get("explanation"), dict):
            when = (record.updated or "")[:16].replace("T", " ")
            self.query_one(ExplanationPanel).show(verdict["explanation"],
                                                  note=f"From the last check ({when} UTC); c checks again.")
            self.refresh_bindings()

    def on_unmount(self) -> None:
        from tutorial.ui import diy

        diy.stop(self)

    def action_edit_yaml(self) -> None:
        """Write it yourself: edit the step's YAML; the step then applies your version."""
        from tutorial.ui.screens.editor import EditorScreen

        if not self.step.manifests or self.busy:
            return
        used = [c.stdin for c in self.step.commands if c.stdin]
        manifest_id = used[0] if used else self.step.manifests[0].id

        def edited(apply: bool | None) -> None:
            for view, manifest in zip(self.query(ManifestView), self.step.manifests):
                view.text = self.engine.manifest_text(self.step, manifest.id)
                view.refresh(recompose=True)
            commands = self.query_one(CommandList)
            commands.commands = self.engine.prepare(self.step) + backend.shown_check_commands(self.engine, self.step)
            commands.refresh(recompose=True)
            if apply:
                self._start("run", "Running the step with your YAML…")

        self.app.push_screen(EditorScreen(self.step, manifest_id), edited)

    def action_diy(self) -> None:
        """Do it yourself: the learner runs the commands in their shell; the checks watch."""
        from tutorial.ui import diy

        diy.toggle(self)

    def _heading(self) -> Content:
        walk = [s for l, s in self.app.walk() if l.id == self.lesson.id]
        number = next((i for i, s in enumerate(walk, 1) if s.target == self.step.target), 0)
        state = self.engine.progress.get(self.step.target).state
        return Content.from_markup(
            "$mark  $lesson › $n/$total [b]$step[/b]", mark=step_mark(state).strip(),
            lesson=f"{self.lesson.order} {self.lesson.title}", n=str(number), total=str(len(walk)),
            step=self.step.title)

    def _refresh_heading(self) -> None:
        self.query_one("#step-heading", Label).update(self._heading())

    # -- which keys work now ------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in BUSY_ONLY:
            return self.busy  # hidden while nothing runs
        if action == "explain_now":
            return self.busy and self._checking  # only while checks wait, not while a command runs
        if action in IDLE_ONLY and self.busy:
            return False  # hidden while a command runs: the footer has room for Stop
        if action == "fix":
            return bool(self.query_one(ExplanationPanel).fix_command)
        if action == "next_step":
            return True if self._neighbour(+1) else None
        if action == "previous_step":
            return True if self._neighbour(-1) else None
        if action in ("copy_yaml", "edit_yaml"):
            return bool(self.step.manifests) or None
        return True

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.set_class(busy, "-running")
        self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------
    def action_run(self) -> None:
        if self.step.breaks:  # a challenge: r breaks the lab, the learner repairs it in their shell
            self._start("break", "Something is about to break (on purpose)…")
            return
        self._start("run", "Running the step's commands…")

    def action_check(self) -> None:
        self._start("check", "Checking the cluster…   (e explains what it sees now · x stops)")

    def action_explain_now(self) -> None:
        """Explain what the cluster shows right now, while the checks keep waiting."""
        if self.busy:
            self.query_one(CommandOutput).status("Looking into what the cluster shows now…   (the checks keep waiting)")
            self._explain_now()

    @work(thread=True, exclusive=True, group="explain-now", name="explain-now")
    def _explain_now(self) -> None:
        try:
            explanation = backend.explain_now(self.engine, self.step)
        except Exception as exc:  # the explanation is a help: say so, keep waiting
            self.app.call_from_thread(self.notify, f"Cannot explain now: {exc}", severity="warning")
            return
        self.post_message(ExplanationReady(self.step.target, explanation))

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.query_one(CommandOutput).status("Stopping…")

    def action_hint(self) -> None:
        if not self.query_one(HintList).reveal():
            self.notify("No more hints. s solves the step (it asks first).")
            return
        self.query_one(HintList).scroll_visible(animate=False)

    def action_solve(self) -> None:
        commands = [p.display for p in self.engine.prepare(self.step, solve=True) if not p.show_only]
        self._confirm("Solve this step?", "This runs the solution, then the checks:", commands, "solve")

    def action_reset(self) -> None:
        if not self.busy:
            self.query_one(CommandOutput).status("Reading the cluster's journal of what the tutorial created…")
            self._plan_reset()

    @work(thread=True, exclusive=True, group="plan", name="plan-reset")
    def _plan_reset(self) -> None:
        try:
            lines = backend.plan_reset(self.engine, self.step)
        except Exception as exc:  # the cluster could not be asked: say so, change nothing
            self.app.call_from_thread(self.notify, f"Cannot plan the reset: {exc}", severity="error")
            return
        self.app.call_from_thread(
            self._confirm, "Reset this step?",
            "This undoes this step and the ones after it. It deletes only what the tutorial created "
            "(recorded in the cluster) and keeps everything that was there before:", lines, "reset")

    def action_fix(self) -> None:
        from tutorial.engine.visible import join_argv as join

        argv = self.query_one(ExplanationPanel).fix_command
        if argv:
            self._confirm("Run the fix?", "This runs the suggested fix, then checks again:", [join(argv)], "fix")

    def _confirm(self, title: str, body: str, commands: list[str], mode: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self._start(mode, {"solve": "Solving…", "reset": "Resetting the step…", "fix": "Fixing…"}[mode])

        if mode == "reset":  # a plan of deletions, not shell commands
            modal = ConfirmModal(title, body, commands or ["(nothing to reset)"], yes="Reset", prefix="")
        else:
            modal = ConfirmModal(title, body, commands or ["(nothing to run)"])
        self.app.push_screen(modal, answered)

    def action_skip(self) -> None:
        self.engine.record(self.step, "skipped", "skipped in the tutorial")
        self.notify(f"Skipped: {self.step.title}")
        self.action_next_step() if self._neighbour(+1) else self.action_back()

    def action_next_step(self) -> None:
        target = self._neighbour(+1)
        if target:
            self.app.switch_screen(StepScreen(target))

    def action_previous_step(self) -> None:
        target = self._neighbour(-1)
        if target:
            self.app.switch_screen(StepScreen(target))

    def _next_words(self) -> str:
        """After a passing step: the next step, or the recap once the build is finished (only
        challenges, or nothing, follow)."""
        nxt = self._neighbour(+1)
        if nxt is None:
            return "That was the last step: well done! R shows the recap of what you built."
        if self.step.breaks is None and self.app.engine.lessons.step(nxt).breaks is not None:
            return "The lab is finished: well done! R shows the recap; n goes on to the troubleshooting challenges."
        return "n goes to the next step."

    def _neighbour(self, delta: int) -> str | None:
        targets = [s.target for _, s in self.app.walk()]
        if self.step.target not in targets:
            return None
        index = targets.index(self.step.target) + delta
        return targets[index] if 0 <= index < len(targets) else None

    def action_copy_yaml(self) -> None:
        text = "---\n".join(m.text for m in self.step.manifests)
        self.app.copy_to_clipboard(text)
        path = backend.save_yaml(self.step, text)
        self.notify(f"Sent the YAML to your terminal's clipboard (a terminal that ignores clipboard "
                    f"requests copies nothing). It is also saved in {path}", timeout=10)

    def action_toggle_resources(self) -> None:
        self.app.toggle_resources()

    def action_back(self) -> None:
        if self.busy:
            self.notify("A command is running: x stops it, then esc goes back.", severity="warning")
            return
        self.app.pop_screen()

    # -- the worker ---------------------------------------------------------------------
    def _start(self, mode: str, heading: str) -> None:
        if self.busy:
            return
        self._cancel = threading.Event()
        self.app.track_cancel(self._cancel)
        self._set_busy(True)
        fix = list(self.query_one(ExplanationPanel).fix_command or [])
        self.query_one(ExplanationPanel).hide()
        prepared = [] if mode == "reset" else backend.break_commands(self.engine, self.step) if mode == "break" \
            else self.engine.prepare(self.step, solve=(mode == "solve"))
        self._runnable = {"check": 0, "fix": 1}.get(mode, sum(1 for p in prepared if not p.show_only))
        self._ended = 0
        checking_now = mode == "check" or (mode in ("run", "solve") and not self._runnable)
        self._checking = checking_now
        self.query_one(CheckList).set_all("waiting" if checking_now else "idle")
        self.query_one(CommandOutput).begin(heading)
        self._work(mode, self._cancel, fix)

    @work(thread=True, exclusive=True, group="step", name="step")
    def _work(self, mode: str, cancel: threading.Event, fix: list[str]) -> None:
        emit = self._emit
        try:
            if mode in ("run", "solve"):
                done = backend.run_step(self.engine, self.step, mode, emit, cancel)
            elif mode == "check":
                done = backend.check_step(self.engine, self.step, emit, cancel)
            elif mode == "reset":
                done = backend.reset_step(self.engine, self.step, emit, cancel)
            elif mode == "break":
                done = backend.break_lab(self.engine, self.step, emit, cancel)
            else:
                done = backend.run_fix(self.engine, self.step, fix, emit, cancel)
            explanation = None
            if not (done.ok or done.cancelled or cancel.is_set()):  # quitting skips the diagnosis
                self.post_message(StatusChanged("Looking into why…"))
                explanation = backend.explain(self.engine, self.step, done)
        except Exception as exc:  # a bug or an unexpected cluster error: show it, keep the app
            done = backend.Finished(False, [], failure=f"{type(exc).__name__}: {exc}")
            explanation = backend.fallback_explanation(self.engine, self.step, done)
        finally:
            self.app.untrack_cancel(cancel)
        self.post_message(StepFinished(self.step.target, mode, done.ok, done.checks, done.cancelled,
                                       done.failure, explanation))

    def _emit(self, event) -> None:
        """Engine events (on worker threads) become messages for this screen."""
        from tutorial.engine.session import (CheckFinished, CheckWaiting, CommandEnded, CommandStarted as Started,
                                             OutputLine, StepNote)

        if isinstance(event, StepNote):  # e.g. an existing Istio is verified instead of installed
            self.post_message(OutputReceived("stdout", f"ℹ {event.text}"))
        elif isinstance(event, Started):
            self.post_message(CommandStarted(event.command.display, event.command.title))
        elif isinstance(event, OutputLine):
            self.post_message(OutputReceived(event.stream, event.line))
        elif isinstance(event, CommandEnded):
            result = event.result
            if result.cancelled:
                summary = "■ stopped"
            elif result.ok:
                summary = "✔ done" if result.exit_code == 0 else f"✔ exit {result.exit_code} (allowed for this command)"
            else:
                summary = f"✘ {backend.command_failure(result)}"
            self.post_message(CommandFinished(result.ok, summary))
        elif isinstance(event, CheckFinished):
            self.post_message(CheckCompleted(event.step.target, event.result))
        elif isinstance(event, CheckWaiting):
            self.post_message(CheckObserved(event.step.target, event.check_id, event.text, event.since))

    # -- what the worker reports -----------------------------------------------------------
    @on(CommandStarted)
    def _command_started(self, message: CommandStarted) -> None:
        out = self.query_one(CommandOutput)
        out.command(message.display)
        out.status(f"Running: {message.title or message.display.splitlines()[0]}   (x stops it)")

    @on(OutputReceived)
    def _output(self, message: OutputReceived) -> None:
        self.query_one(CommandOutput).write(message.line)

    @on(CommandFinished)
    def _command_finished(self, message: CommandFinished) -> None:
        self.query_one(CommandOutput).write(f"  {message.summary}")
        self._ended += 1
        if message.ok and self._ended == self._runnable and self.step.checks:
            self._checking = True
            self.refresh_bindings()
            self.query_one(CheckList).set_all("waiting")
            self.query_one(CommandOutput).status("Checking the cluster…   (e explains what it sees now · x stops)")

    @on(StatusChanged)
    def _status(self, message: StatusChanged) -> None:
        self.query_one(CommandOutput).status(message.text)

    @on(CheckCompleted)
    def _check_completed(self, message: CheckCompleted) -> None:
        result = message.result
        state = "passed" if result.passed else ("unreachable" if result.unreachable else "failed")
        from tutorial.ui import diy

        if state == "failed" and diy.active(self) and not result.settled:
            state = "yours"  # a round of the do-it-yourself watch ended: not a verdict, it keeps watching
        self.query_one(CheckList).finish(result.check_id)
        self.query_one(CheckList).set_state(result.check_id, state, result.observed)

    @on(CheckObserved)
    def _check_observed(self, message: CheckObserved) -> None:
        if message.target == self.step.target:
            self.query_one(CheckList).observe(message.check_id, message.text, message.since)

    @on(ExplanationReady)
    def _explanation_ready(self, message: ExplanationReady) -> None:
        if not self.busy:
            return  # the checks finished meanwhile: their own verdict is shown
        if message.explanation is None:
            self.query_one(CommandOutput).status("Checking the cluster…   (e explains what it sees now · x stops)")
            self.notify("Nothing is wrong yet: what the checks see can still become right by itself.")
            return
        self.query_one(CommandOutput).status("Explained above: what the cluster shows now. The checks keep "
                                             "waiting (x stops them).")
        self.query_one(ExplanationPanel).show(message.explanation, note="What the cluster shows now; "
                                              "the checks keep waiting (x stops them).")
        self.call_after_refresh(self.query_one(ExplanationPanel).scroll_visible, animate=False)

    @on(StepFinished)
    def _finished(self, message: StepFinished) -> None:
        self._checking = False
        self._set_busy(False)
        self._cancel = None
        self._refresh_heading()
        self.query_one(CommandOutput).status(self._verdict(message))
        if message.mode == "break" and message.ok:
            from tutorial.ui import diy

            if not diy.active(self):
                diy.start(self)  # the checks watch while the learner repairs
        if message.explanation:
            self.query_one(ExplanationPanel).show(message.explanation)
            self.call_after_refresh(self.query_one(ExplanationPanel).scroll_visible, animate=False)
            self.refresh_bindings()
        elif message.ok:
            self.call_after_refresh(self.query_one(CheckList).scroll_visible, animate=False)
        self.app.refresh_outline()

    def _verdict(self, message: StepFinished) -> str:
        if message.cancelled:
            return "Stopped. Nothing was recorded; r runs the step again."
        if message.mode == "break":
            return (f"✘ {backend.symptom(self.engine, self.step)} Investigate and repair it in your own shell "
                    "(! shows how); the checks turn ✔ when the path works again. h hints, s solves.") \
                if message.ok else f"✘ Could not break the lab. {message.failure or ''}"
        if message.mode == "reset":
            return "✔ The step is reset. r runs it again." if message.ok else f"✘ Reset failed. {message.failure}"
        if message.ok:
            nxt = self._next_words()
            return f"✔ All checks passed. {nxt}"
        if message.failure:
            return "✘ A command failed; the explanation above says what to do."
        return "✘ Some checks failed; the explanation above says what we saw and what to do."
