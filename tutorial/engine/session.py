"""The engine facade: prepare, run and check lesson steps on one cluster, and record progress.

The command line and the TUI both go through `Engine`, so a step run from either is recorded
the same way. Nothing here imports textual; long calls block and are meant for worker threads.
"""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tutorial.engine.checks import CheckContext, CheckResult, run_check
from tutorial.engine.pack import NOT_CONFIRMED, not_run_text
from tutorial.engine.visible import join_argv
from tutorial.engine.runner import CommandResult, CommandSpec, build_env, display_command, run_command
from tutorial.engine.target import ClusterTarget
from tutorial.lessons.models import Command, Lesson, Step
from tutorial.lessons.variables import substitute, substitute_argv

CHECK_WORKERS = 8


@dataclass
class PreparedCommand:
    """A lesson command with its variables filled in, exactly as it will run."""

    spec: CommandSpec
    display: str
    show_only: bool = False
    title: str | None = None


@dataclass
class CommandStarted:
    command: PreparedCommand


@dataclass
class OutputLine:
    command: PreparedCommand
    stream: str
    line: str


@dataclass
class CommandEnded:
    command: PreparedCommand
    result: CommandResult


@dataclass
class StepNote:
    """Something the learner should read about how the step was handled (e.g. verified, not run)."""

    step: Step
    text: str


@dataclass
class CheckFinished:
    step: Step
    result: CheckResult


@dataclass
class CheckWaiting:
    """A check is still waiting; `text` is what it sees now, unchanged since `since` (monotonic)."""

    step: Step
    check_id: str
    text: str
    since: float


@dataclass
class StepOutcome:
    """What running a step did: its commands' results and its checks' verdicts."""

    step: Step
    commands: list[CommandResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    cancelled: bool = False
    verified: str = ""  # set when the step only verified what the cluster already had

    @property
    def commands_ok(self) -> bool:
        return all(r.ok for r in self.commands)

    @property
    def ok(self) -> bool:
        return self.commands_ok and all(c.passed for c in self.checks) and not self.cancelled

    @property
    def failed_command(self) -> CommandResult | None:
        return next((r for r in self.commands if not r.ok), None)


EventSink = Callable[[object], None]


def client_version_only(argv: list[str]) -> bool:
    """`kubectl|helm|istioctl version --client` (and nothing else): what a tool on this machine is."""
    return (len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in ("kubectl", "helm", "istioctl")
            and argv[1] == "version" and argv[2] == "--client")


class MachineFacts:
    """Answers about this machine (not about a cluster), found once for all of a fleet's clusters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict = {}

    def once(self, key, find: Callable[[], object]):
        with self._lock:
            entry = self._known.setdefault(key, [threading.Lock(), None, False])
        with entry[0]:  # the first cluster asks; the others wait for its answer
            if not entry[2]:
                entry[1], entry[2] = find(), True
            return entry[1]


class Engine:
    """Lessons + one cluster target + its progress store."""

    def __init__(self, lessons, target: ClusterTarget, progress=None, assets_dir: Path | None = None):
        from tutorial.paths import assets_dir as default_assets

        self.lessons = lessons
        self.target = target
        self.progress = progress
        self.assets_dir = Path(assets_dir or default_assets())
        self._client = None
        self._client_lock = threading.Lock()
        self._preflight = None
        self.pack = None  # a LessonPack when the lessons are not the bundled ones (engine/pack.py)
        self._prepared: dict | None = None  # prepare() results while steady_commands() holds
        self.machine_facts: MachineFacts | None = None  # shared by a fleet's engines (run_argv)

    # -- cluster ----------------------------------------------------------------------
    @property
    def client(self):
        with self._client_lock:
            if self._client is None:
                from tutorial.cluster.client import ClusterClient

                self._client = ClusterClient(self.target.kubeconfig, self.target.context)
            return self._client

    def preflight(self, refresh: bool = False):
        """doctor's findings and facts for this target, computed once (a few reads, no writes)."""
        if self._preflight is None or refresh:
            from tutorial.engine.preflight import run_preflight

            self._preflight = run_preflight(self.target, self.client)
        return self._preflight

    def use_client(self, client) -> None:
        """Talk to the cluster through `client` from now on (the old one is closed)."""
        with self._client_lock:
            old, self._client = self._client, client
        if old is not None and old is not client:
            old.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- lessons ----------------------------------------------------------------------
    def variants(self) -> dict[str, str]:
        if self.progress is None:
            return {}
        chosen = {}
        for lesson in self.lessons.lessons:
            variant = self.progress.variant(lesson.id)
            if variant:
                chosen[lesson.id] = variant
        return chosen

    def steps(self, target: str = "all") -> list[tuple[Lesson, Step]]:
        return self.lessons.resolve_target(target, variants=self.variants())

    def variables(self, step: Step) -> dict[str, str]:
        lesson = self.lessons.lesson(step.lesson_id)
        values = {"assets": str(self.assets_dir), "context": self.target.context,
                  "kubeconfig": self.target.kubeconfig or "", "lesson": lesson.id, "step": step.id}
        values.update(getattr(lesson, "variables", None) or {})
        return values

    def render(self, step: Step, text: str) -> str:
        """Teaching text and hints with the lesson's variables filled in (unknown ones kept)."""
        try:
            return substitute(text, self.variables(step))
        except ValueError:
            return text

    @contextmanager
    def steady_commands(self):
        """Within: prepare() renders each step's commands once. A fleet prepare asks for a step's
        commands ~8 times (is it a step that changes the cluster, which namespaces, what it is
        about, before and after it runs, then to run them) and nothing edits a manifest meanwhile;
        rendering fills variables and makes the display line, manifests escaped character by
        character. The TUI never holds it: a learner may edit a step's YAML at any moment."""
        self._prepared = {}
        try:
            yield self
        finally:
            self._prepared = None

    def prepare(self, step: Step, *, solve: bool = False, cleanup: bool = False) -> list[PreparedCommand]:
        memo = self._prepared
        if memo is None:
            return self._prepare_all(step, solve, cleanup)
        key = (step.target, solve, cleanup)
        if key not in memo:
            memo[key] = self._prepare_all(step, solve, cleanup)
        return list(memo[key])

    def _prepare_all(self, step: Step, solve: bool, cleanup: bool) -> list[PreparedCommand]:
        if step.breaks is not None and not cleanup:
            from tutorial.engine.challenge import full_run

            return full_run(self, step)  # a challenge's run: break it, then the documented repair
        commands = step.cleanup if cleanup else (step.solve_commands if solve else step.commands)
        return [self._prepare(step, c) for c in commands]

    def _prepare(self, step: Step, command: Command) -> PreparedCommand:
        argv = self.localize(substitute_argv(command.run, self.variables(step)))
        stdin = self.manifest_text(step, command.stdin) if command.stdin else None
        spec = CommandSpec(argv=argv, stdin=stdin, timeout=command.timeout,
                           ok_exit_codes=tuple(command.ok_exit_codes), title=command.title)
        display = display_command(spec, self.target.run_target(), show_env=False)
        return PreparedCommand(spec, display, command.show_only, command.title)

    def manifest_text(self, step: Step, manifest_id: str) -> str:
        """The YAML the step applies: the learner's own version (write it yourself), else the blog's."""
        from tutorial.engine.mine import text_for

        return text_for(self, step, manifest_id)

    def localize(self, argv: list[str]) -> list[str]:
        """Replace release URLs by a local copy: the sandbox's bundle, else the verified asset cache."""
        from tutorial.engine import assetcache

        resolve_url = None
        if self.target.sandbox:
            try:
                from tutorial.sandbox.bundles import resolve_url
            except ImportError:
                pass
        out = []
        for arg in argv:
            if arg.startswith("https://"):
                local = (resolve_url(arg) if resolve_url else None) or assetcache.localize(arg)
                arg = str(local) if local else arg
            out.append(arg)
        return out

    # -- running ----------------------------------------------------------------------
    def run_step(self, step: Step, *, solve: bool = False, on_event: EventSink | None = None,
                 cancel: threading.Event | None = None, check_timeout: float | None = None) -> StepOutcome:
        """Run the step's commands in order (stopping at the first failure), then its checks.

        What the step creates is recorded in the cluster's ownership journal, so a reset (from
        any machine) removes only what the tutorial made. Running a step is the learner's yes to
        its commands, and so to a lesson pack's check commands listed beside them.
        """
        from tutorial.engine import journal
        from tutorial.engine.pack import check_commands

        if self.pack is not None:
            self.pack.confirm(check_commands(self, step))

        with journal.journaled(self, step):
            return self._run_step(step, solve, on_event or (lambda event: None), cancel, check_timeout)

    def pack_check_commands(self, step: Step) -> list[list[str]]:
        """A lesson pack's check commands on this step (none for the bundled lessons)."""
        from tutorial.engine.pack import check_commands

        return check_commands(self, step) if self.pack is not None else []

    def confirm_pack_checks(self, step: Step) -> None:
        """The learner's yes to the step's pack check commands (shown on the step), e.g. by watching it."""
        if self.pack is not None:
            self.pack.confirm(self.pack_check_commands(step))

    def _run_step(self, step: Step, solve: bool, emit: EventSink, cancel, check_timeout) -> StepOutcome:
        outcome = StepOutcome(step)
        if step.breaks is not None:
            from tutorial.engine.challenge import offered

            if offered(self, step):  # a sandbox-only challenge on a real cluster: never run its break
                emit(StepNote(step, offered(self, step)))
                self.record(step, "skipped", offered(self, step))
                return outcome
        verified = self.verify_instead(step)
        if verified:
            emit(StepNote(step, verified))
            outcome.checks = self.check_step(step, on_event=emit, cancel=cancel, timeout=check_timeout, ran=True)
            outcome.verified = verified
            return outcome
        outcome.commands = self.run_commands(self.prepare(step, solve=solve), on_event=emit, cancel=cancel)
        if any(r.cancelled for r in outcome.commands) or (cancel is not None and cancel.is_set()):
            outcome.cancelled = True
            return outcome
        failed = outcome.failed_command
        if failed is not None:
            from tutorial.engine.evidence import command_record

            self.record(step, "failed", f"command failed: {join_argv(failed.argv)}",
                        verdict={"failed_command": command_record(failed)})
            return outcome
        outcome.checks = self.check_step(step, on_event=emit, cancel=cancel, timeout=check_timeout, ran=True)
        outcome.cancelled = bool(cancel is not None and cancel.is_set())
        return outcome

    def run_commands(self, prepared_list: list[PreparedCommand], *, on_event: EventSink | None = None,
                     cancel: threading.Event | None = None) -> list[CommandResult]:
        """Run prepared commands in order (show-only ones skipped) until one fails or is cancelled."""
        emit = on_event or (lambda event: None)
        results = []
        for prepared in prepared_list:
            if prepared.show_only:
                continue
            emit(CommandStarted(prepared))
            result = self._offline_refusal(prepared) or run_command(
                prepared.spec, self.target.run_target(),
                on_output=lambda stream, line, p=prepared: emit(OutputLine(p, stream, line)), cancel=cancel)
            results.append(result)
            emit(CommandEnded(prepared, result))
            if not result.ok or result.cancelled or (cancel is not None and cancel.is_set()):
                break
        return results

    def verify_instead(self, step: Step) -> str:
        """Why this step only verifies (its `verify_when` fact holds on this cluster), or ""."""
        if not step.verify_when:
            return ""
        from tutorial.engine.preflight import adaptation_facts

        facts = adaptation_facts(self.preflight())
        if not facts.get(step.verify_when):
            return ""
        what = {"istio_ready": f"Istio {facts.get('istio_version') or ''} is already installed and ready"
                               f" ({facts.get('istio_installer') or 'installer unknown'})",
                "gateway_api_newer": f"Gateway API CRDs {facts.get('gateway_api_version')} are already installed, "
                                     "newer than the tutorial's v1.3.0; keeping yours"}.get(
            step.verify_when, f"{step.verify_when.replace('_', ' ')} holds on this cluster")
        return f"{what}: nothing to install, so this step checks what you have instead of running its commands."

    def _offline_refusal(self, prepared: PreparedCommand) -> CommandResult | None:
        """In offline mode, a failed result for a command that would download something not cached."""
        from tutorial.engine import assetcache

        if self.target.sandbox or not assetcache.offline_mode():
            return None  # the sandbox needs no network: its tools and bundle are local
        problem = assetcache.offline_problem(list(prepared.spec.argv))
        if problem is None:
            return None
        return CommandResult(argv=list(prepared.spec.argv), exit_code=None, stdout="", stderr=problem,
                             duration=0.0, explanation=problem)

    def run_argv(self, argv: list[str], timeout: float) -> tuple[int, str]:
        """For command_succeeds checks: exit code and combined output of a quick command.

        A tool's client version (`kubectl version --client`: "is kubectl installed here?") is a
        fact of this machine: with a `machine_facts` store shared by a fleet's engines, it is
        asked once per PATH, not once per cluster."""
        facts = self.machine_facts
        target = self.target.run_target()
        if facts is None or not client_version_only(argv):
            return self._run_argv(argv, timeout, target)
        return facts.once((tuple(argv), build_env(target).get("PATH", "")),
                          lambda: self._run_argv(argv, timeout, target))

    @staticmethod
    def _run_argv(argv: list[str], timeout: float, target) -> tuple[int, str]:
        result = run_command(CommandSpec(argv=argv, timeout=timeout), target)
        code = result.exit_code if result.exit_code is not None else 127
        return code, (result.stdout + result.stderr) or result.explanation

    def check_step(self, step: Step, *, on_event: EventSink | None = None, cancel: threading.Event | None = None,
                   timeout: float | None = None, record: bool = True, ran: bool = False) -> list[CheckResult]:
        """Run every check of the step concurrently; record done/failed in progress."""
        results = self.run_checks([(step, c) for c in step.checks], on_event=on_event, cancel=cancel, timeout=timeout,
                                  ran=ran)
        if record and not (cancel is not None and cancel.is_set()):
            self.record_checks(step, results, ran)
        return results

    def run_checks(self, pairs, *, on_event=None, cancel=None, timeout=None, ran: bool = False,
                   workers: int = CHECK_WORKERS) -> list[CheckResult]:
        """Run checks concurrently (`workers` at a time); Ctrl-C (or `cancel`) ends every waiting check.

        `ran`: the steps' commands just succeeded, so an object they make that is still missing
        is a settled failure. While a check waits, CheckWaiting events say what it sees.
        """
        cancel = cancel if cancel is not None else threading.Event()
        ctx = CheckContext(self.client, cancel=cancel, run_argv=self.run_argv, run_target=self.target.run_target(),
                           sandbox=self.target.sandbox, ran=ran,
                           facts=self._preflight.facts if self._preflight is not None else None)
        emit = on_event or (lambda event: None)
        from tutorial.engine.settle import StepFailure

        failures = {step.target: StepFailure() for step, _ in pairs}  # one settled failure ends the step's wait

        def one(pair):
            step, chk = pair
            if cancel.is_set():  # stopped (Ctrl-C, a deadline) before this check began: not asked
                result = CheckResult(chk.id, chk.kind, chk.title, False, "not checked: stopped", cancelled=True)
                emit(CheckFinished(step, result))
                return result
            params = self.check_params(step, chk.params)
            if self._unconfirmed(chk.kind, params):
                result = CheckResult(chk.id, chk.kind, chk.title, False, not_run_text(params.get("run") or []),
                                     error=NOT_CONFIRMED)
                emit(CheckFinished(step, result))
                return result
            mine = dataclasses.replace(ctx, step_failure=failures[step.target],
                                       on_observe=lambda text, since: emit(CheckWaiting(step, chk.id, text, since)))
            result = run_check(mine, chk.kind, params, timeout=timeout if timeout is not None else chk.timeout,
                               check_id=chk.id, title=chk.title)
            emit(CheckFinished(step, result))
            return result

        if not pairs:
            return []
        pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(pairs))), thread_name_prefix="check")
        futures = [pool.submit(one, pair) for pair in pairs]
        try:
            pending = set(futures)
            while pending:  # short slices: a Ctrl-C handed to a worker thread must reach us
                _, pending = wait(pending, timeout=0.2)
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            cancel.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _unconfirmed(self, kind: str, params: dict) -> bool:
        """A pack's command_succeeds check whose command the learner has not confirmed."""
        return self.pack is not None and kind == "command_succeeds" and not self.pack.allows(params.get("run") or [])

    def check_params(self, step: Step, params: dict) -> dict:
        """A check's parameters with the lesson's variables filled in (unknown ones kept)."""
        values = self.variables(step)

        def fill(value):
            if isinstance(value, str):
                try:
                    return substitute(value, values)
                except ValueError:
                    return value
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        return fill(dict(params))

    # -- progress ---------------------------------------------------------------------
    def record_checks(self, step: Step, results: list[CheckResult], ran: bool) -> None:
        """Passing checks mark a step done; failing ones mark it failed if it was run or done.

        A check that could not reach the cluster, met only transient API errors (5xx, 429, a
        dropped connection), or is a pack's check command that was not confirmed (so not run),
        says nothing about the step: no change.
        """
        if any(r.error == NOT_CONFIRMED or r.transient for r in results):
            return  # a check that was not run, or an API server in trouble, says nothing of the step
        if all(r.passed for r in results):
            if results or ran:
                self.record(step, "done")
            return
        if any(r.unreachable for r in results):
            return
        previous = self.progress.get(step.target).state if self.progress else "todo"
        if ran or previous in ("done", "failed"):
            failing = next(r for r in results if not r.passed)
            self.record(step, "failed", f"{failing.title}: {failing.observed}",
                        verdict={"checks": [_verdict_row(r) for r in results]})

    def record(self, step: Step, state: str, detail: str = "", verdict: dict | None = None) -> None:
        if self.progress is not None:
            self.progress.set(step.target, state, detail, verdict)

    def remember_explanation(self, step: Step, explanation: dict | None) -> None:
        """Keep the explanation of the step's last failure with its verdict (shown until it is checked again)."""
        if self.progress is not None and explanation:
            try:
                self.progress.set_verdict(step.target, explanation=explanation)
            except OSError:
                pass  # an unwritable state dir costs the memory, not the explanation on screen


def _verdict_row(result: CheckResult) -> dict:
    return {"check": result.check_id, "title": result.title, "passed": result.passed,
            "observed": result.observed, "settled": result.settled}
