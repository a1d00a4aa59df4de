"""App-level facts posted by thread workers (past tense: they say what happened)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message


@dataclass
class LessonsLoaded(Message):
    lessons: object


@dataclass
class ProgressRead(Message):
    """The learner's progress on the cluster about to be used, read before connecting to it."""

    progress: object


@dataclass
class EngineReady(Message):
    """An engine on a cluster is ready; `notice` says why it is not the one asked for."""

    engine: object
    notice: str | None = None


@dataclass
class StartupFailed(Message):
    title: str
    message: str
    fatal: bool = True


@dataclass
class ContextsListed(Message):
    contexts: list[tuple[str, str]]
    current: str | None
    problem: str | None


@dataclass
class CommandStarted(Message):
    display: str
    title: str | None


@dataclass
class OutputReceived(Message):
    stream: str
    line: str


@dataclass
class CommandFinished(Message):
    ok: bool
    summary: str


@dataclass
class StatusChanged(Message):
    """A worker moved on to another phase (e.g. looking into why a check failed)."""

    text: str


@dataclass
class CheckCompleted(Message):
    target: str
    result: object


@dataclass
class CheckObserved(Message):
    """A check is still waiting and sees `text`, unchanged since `since` (time.monotonic)."""

    target: str
    check_id: str
    text: str
    since: float


@dataclass
class ExplanationReady(Message):
    """An explanation asked for while the checks still wait (None: nothing fails right now)."""

    target: str
    explanation: dict | None


@dataclass
class StepFinished(Message):
    """A run, solve, check, reset or fix of `target` ended, with its explanation if it failed."""

    target: str
    mode: str
    ok: bool
    checks: list = field(default_factory=list)
    cancelled: bool = False
    failure: str | None = None
    explanation: dict | None = None


@dataclass
class ResourcesChanged(Message):
    label: str
    rows: list[dict]
    problem: str | None = None
