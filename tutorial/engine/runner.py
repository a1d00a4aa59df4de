"""Run one lesson command for real: argv only, chosen kubeconfig/context, streamed output.

Commands are argv lists handed to `sh` (v2); nothing is ever re-parsed by a shell, so a
`{variable}` substituted into an argv element stays exactly one argument. Each process runs
in its own session, so a timeout, a cancel() or Ctrl-C ends the whole process group.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

from tutorial.engine.visible import escape_invisible, join_argv, quote_arg

OutputCallback = Callable[[str, str], None]

# How long a process group gets between SIGTERM and SIGKILL; keeps Ctrl-C well under 2 s.
TERM_GRACE = 1.0
# How often the supervisor looks at the cancel event and the deadline while it waits.
_TICK = 0.05

# Flag each tool uses to pick a kubeconfig context (see context_flag()).
CONTEXT_FLAGS: dict[str, str] = {
    "kubectl": "--context",
    "helm": "--kube-context",
    "istioctl": "--context",
}

# Subcommands that never talk to a cluster: no context flag, so the learner sees the
# command as the docs print it (`helm repo add ...`).
LOCAL_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "kubectl": frozenset({"config", "completion", "kustomize", "plugin"}),
    "helm": frozenset({"repo", "search", "show", "pull", "package", "lint", "create",
                       "dependency", "completion", "env", "plugin", "help", "version"}),
    "istioctl": frozenset({"completion", "help", "manifest"}),
}

INSTALL_HINTS: dict[str, str] = {
    "kubectl": "Install kubectl (the Kubernetes command line): "
    "https://kubernetes.io/docs/tasks/tools/",
    "helm": "Install Helm 3: https://helm.sh/docs/intro/install/ "
    "(or use the istioctl variant of the Istio lesson).",
    "istioctl": "Install istioctl matching Istio 1.27: "
    "https://istio.io/latest/docs/setup/install/istioctl/ "
    "(or use the Helm variant of the Istio lesson).",
}


@dataclass(frozen=True)
class CommandSpec:
    """One command of a step: argv (variables already substituted), optional stdin text."""

    argv: Sequence[str]
    stdin: str | None = None
    timeout: float | None = 120.0
    ok_exit_codes: tuple[int, ...] = (0,)
    title: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.argv, str) or not self.argv or not all(
                isinstance(a, str) for a in self.argv):
            raise ValueError(f"a command is a non-empty list of strings (argv), got {self.argv!r}")


@dataclass(frozen=True)
class RunTarget:
    """Where commands go: kubeconfig (KUBECONFIG value), context, sandbox PATH additions."""

    kubeconfig: str | None = None
    context: str | None = None
    extra_path: Sequence[str] = ()
    sandbox: bool = False
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandResult:
    """What happened: the argv that ran, exit code (negative = killed by signal), output."""

    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    cancelled: bool = False
    missing_executable: str | None = None
    explanation: str = ""
    ok: bool = False


def context_flag(program: str) -> str | None:
    """The flag `program` (a name or path) uses to choose a kubeconfig context, if any."""
    return CONTEXT_FLAGS.get(os.path.basename(program))


def _is_local(argv: list[str]) -> bool:
    """True for a subcommand that never contacts a cluster (also `X version --client`)."""
    sub = argv[1] if len(argv) > 1 else ""
    local = LOCAL_SUBCOMMANDS.get(os.path.basename(argv[0]), frozenset())
    return sub in local or (sub == "version" and "--client" in argv)


def with_context(argv: Sequence[str], context: str | None) -> list[str]:
    """argv with the tool's context flag added, unless argv already chooses a context.

    The flag goes at the end of the tool's own arguments (before a `--`, as in
    `kubectl exec pod --context c -- sh`): every tool accepts it there, after the subcommand.
    """
    argv = list(argv)
    flag = context_flag(argv[0]) if argv else None
    if not context or not flag or _is_local(argv):
        return argv
    cut = argv.index("--") if "--" in argv else len(argv)
    if any(a == flag or a.startswith(flag + "=") for a in argv[:cut]):
        return argv
    return [*argv[:cut], flag, context, *argv[cut:]]


def build_env(target: RunTarget, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: parent env, KUBECONFIG, sandbox PATH first, then target.env."""
    env = dict(os.environ if base is None else base)
    if target.kubeconfig:
        env["KUBECONFIG"] = target.kubeconfig
    if target.sandbox and target.extra_path:
        parts = [str(p) for p in target.extra_path] + [env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(p for p in parts if p)
    env.update({str(k): str(v) for k, v in target.env.items()})
    return env


def final_argv(spec: CommandSpec, target: RunTarget) -> list[str]:
    """The exact argv that run_command executes for spec on target."""
    return with_context(spec.argv, target.context)


def _heredoc_delimiter(text: str) -> str:
    """EOF, or EOF_1, EOF_2... if the manifest itself contains a line EOF."""
    lines = set(text.splitlines())
    tag, n = "EOF", 0
    while tag in lines:
        n += 1
        tag = f"EOF_{n}"
    return tag


def _kubeconfig_differs(kubeconfig: str, env: Mapping[str, str]) -> bool:
    """Whether a shell with env would pick a different kubeconfig than `kubeconfig`."""
    if env.get("KUBECONFIG"):
        return env["KUBECONFIG"] != kubeconfig
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "config") != kubeconfig


def display_command(spec: CommandSpec, target: RunTarget, show_env: bool = True,
                    base_env: Mapping[str, str] | None = None) -> str:
    """A copy-pasteable shell line for what will run; stdin shown as a quoted heredoc.

    Environment prefixes appear only where the learner's shell (base_env, default
    os.environ) would differ: KUBECONFIG when it picks another file, PATH for the sandbox.
    """
    env = os.environ if base_env is None else base_env
    prefix = []
    if show_env and target.kubeconfig and _kubeconfig_differs(target.kubeconfig, env):
        prefix.append("KUBECONFIG=" + quote_arg(target.kubeconfig))
    if show_env and target.sandbox and target.extra_path:
        extra = os.pathsep.join(str(p) for p in target.extra_path)
        prefix.append(f'PATH={quote_arg(extra)}:"$PATH"')
    line = " ".join([*prefix, join_argv(final_argv(spec, target))])
    if spec.stdin is None:
        return line
    tag = _heredoc_delimiter(spec.stdin)
    body = escape_invisible(spec.stdin, allow="\n\t")  # a \r must not hide a line of the manifest
    body = body if body.endswith("\n") else body + "\n"
    return f"{line} <<'{tag}'\n{body}{tag}"


def _missing(argv: list[str], program: str) -> CommandResult:
    """The result for a program that is not on PATH: what to install and where."""
    name = os.path.basename(program)
    hint = INSTALL_HINTS.get(name, f"Install {name!r} or put it on your PATH.")
    return CommandResult(
        argv=argv, exit_code=None, stdout="", stderr="", duration=0.0,
        missing_executable=name,
        explanation=f"{name!r} was not found on PATH, so this command could not run. {hint}",
    )


def _unstartable(argv: list[str], program: str, exc: Exception) -> CommandResult:
    """The result for a program that exists but cannot be executed (bad interpreter, noexec)."""
    reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return CommandResult(
        argv=argv, exit_code=None, stdout="", stderr=reason, duration=0.0,
        explanation=f"{program} could not be started ({reason}). Reinstall it, or check that "
        "the file is a working executable for this machine.",
    )


@contextmanager
def _deferred_sigint() -> Iterator[Callable[[], bool]]:
    """In the main thread, hold SIGINT while inside; yields 'was one received?'."""
    if threading.current_thread() is not threading.main_thread() or not callable(
            signal.getsignal(signal.SIGINT)):
        yield lambda: False  # only the main thread runs Python signal handlers
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield lambda: bool(pending)
    finally:
        signal.signal(signal.SIGINT, previous)


class CommandRun:
    """One running command; start() it, cancel() it from any thread, wait() for the result."""

    def __init__(self, spec: CommandSpec, target: RunTarget,
                 on_output: OutputCallback | None = None,
                 cancel: threading.Event | None = None) -> None:
        self.spec, self.target = spec, target
        self.argv = final_argv(spec, target)
        self._on_output = on_output
        self._cancel = cancel if cancel is not None else threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._out: list[str] = []
        self._err: list[str] = []
        self._proc = None
        self._result: CommandResult | None = None
        self._started = 0.0

    @property
    def pid(self) -> int | None:
        """The child's pid, which is also its process-group and session id; None if not started."""
        return self._proc.pid if self._proc is not None else None

    def cancel(self) -> None:
        """Ask the run to stop; the supervising wait() ends the process group."""
        self._cancel.set()

    def start(self) -> "CommandRun":
        """Launch the process in its own session; a missing program becomes the result.

        Ctrl-C during the launch is held until the child's pid is known, then delivered, so
        the group can still be ended (an interrupted fork would otherwise leave an orphan).
        """
        if self._proc is not None or self._result is not None:
            return self
        try:
            with _deferred_sigint() as pending:
                self._launch()
            if pending():
                signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            self._interrupted()
            raise
        return self

    def _launch(self) -> None:
        import sh

        env = build_env(self.target)
        program = shutil.which(self.argv[0], path=env.get("PATH")) if self.argv else None
        if program is None:
            self._result = _missing(self.argv, self.argv[0] if self.argv else "")
            return
        self._started = time.monotonic()
        try:
            self._proc = sh.Command(program)(
                *self.argv[1:], _in=self.spec.stdin or "", _env=env,
                _out=self._sink("stdout", self._out), _err=self._sink("stderr", self._err),
                _bg=True, _bg_exc=False, _new_session=True, _tty_out=False,
                _ok_code=list(range(256)), _decode_errors="replace",
                _done=lambda *_: self._finished.set(),
            )
        except (sh.ForkException, OSError) as exc:
            self._result = _unstartable(self.argv, program, exc)
            return
        threading.Thread(target=self._watch_exit, args=(self._proc.pid,), daemon=True,
                         name=f"runner-exit-{self._proc.pid}").start()

    def _watch_exit(self, pid: int) -> None:
        """Set _finished the moment the child exits (sh itself only notices within ~1 s).

        WNOWAIT leaves the child for sh to reap, so its own bookkeeping stays intact.
        """
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        except ChildProcessError:  # sh reaped it first
            pass
        self._finished.set()

    def _sink(self, stream: str, store: list[str]) -> Callable[[str], None]:
        """An sh output callback: keep the chunk, pass whole lines to on_output."""
        def take(chunk: str) -> None:
            with self._lock:
                store.append(chunk)
            if self._on_output is not None:
                try:
                    self._on_output(stream, chunk.rstrip("\n"))
                except Exception:  # a broken display must not break the command
                    pass
        return take

    def wait(self) -> CommandResult:
        """Start if needed, block until the command ends, times out or is cancelled.

        KeyboardInterrupt (Ctrl-C in the main thread) ends the process group, then re-raises.
        """
        try:  # start() inside the try: no gap where a Ctrl-C could orphan the child
            self.start()
            if self._result is not None:
                return self._result
            timed_out, cancelled = self._supervise()
        except KeyboardInterrupt:
            self._interrupted()
            raise
        self._result = self._collect(timed_out, cancelled)
        return self._result

    def _interrupted(self) -> None:
        """End the group after Ctrl-C; a second Ctrl-C skips the grace period."""
        if self._proc is None:
            return
        try:
            self._end_group()
        except KeyboardInterrupt:
            self._signal_group(signal.SIGKILL)

    def _supervise(self) -> tuple[bool, bool]:
        """Wait for the end, the deadline or a cancel; end the group on either of the last two."""
        timeout = self.spec.timeout
        deadline = None if timeout is None else self._started + timeout
        while not self._finished.is_set():
            if self._cancel.is_set():
                self._end_group()
                return False, True
            if deadline is not None and time.monotonic() >= deadline:
                self._end_group()
                return True, False
            # Short ticks: a plain threading.Event cannot wake us, so we look at it often.
            self._finished.wait(_TICK)
        return False, False

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self._proc.pid, sig)  # the child leads its own session and group
        except (ProcessLookupError, PermissionError):
            pass

    def _end_group(self) -> None:
        """SIGTERM the whole group, give it TERM_GRACE, then SIGKILL whatever is left."""
        self._signal_group(signal.SIGTERM)
        if not self._finished.wait(TERM_GRACE):
            self._signal_group(signal.SIGKILL)
        self._finished.wait(TERM_GRACE)
        self._reap()
        self._signal_group(signal.SIGKILL)  # stragglers that ignored SIGTERM

    def _reap(self) -> int | None:
        """Collect the exit code without raising for signals or odd codes."""
        try:
            self._proc.wait()
        except Exception:  # sh raises for signal deaths; the exit code is still recorded
            pass
        return self._proc.process.exit_code

    def _collect(self, timed_out: bool, cancelled: bool) -> CommandResult:
        """Build the result; kill leftover group members (background children) first."""
        self._signal_group(signal.SIGKILL)  # before reaping, so their pipes close now
        code = self._reap()
        with self._lock:
            out, err = "".join(self._out), "".join(self._err)
        ok = not (timed_out or cancelled) and code in self.spec.ok_exit_codes
        return CommandResult(
            argv=self.argv, exit_code=code, stdout=out, stderr=err,
            duration=time.monotonic() - self._started, timed_out=timed_out,
            cancelled=cancelled, ok=ok, explanation=self._explain(code, timed_out, cancelled),
        )

    def _explain(self, code: int | None, timed_out: bool, cancelled: bool) -> str:
        if timed_out:
            return (f"Stopped after {self.spec.timeout:g} s without finishing; the command and "
                    "everything it started were ended. Check the cluster, then run it again.")
        if cancelled:
            return "Cancelled; the command and everything it started were ended."
        if code is not None and code not in self.spec.ok_exit_codes:
            return f"Exited with code {code}; its output above says why."
        return ""


def run_command(spec: CommandSpec, target: RunTarget,
                on_output: OutputCallback | None = None,
                cancel: threading.Event | None = None) -> CommandResult:
    """Run spec on target and block until it ends; safe from a worker thread.

    on_output(stream, line) gets each line ("stdout"/"stderr", newline stripped) as it
    arrives, on an sh reader thread. Setting `cancel` ends the process group; so does
    Ctrl-C in the main thread, after which KeyboardInterrupt is re-raised.
    """
    return CommandRun(spec, target, on_output, cancel).wait()
