"""App-level facts posted by thread workers (past tense: they say what happened).

Each is declared like a dataclass (its annotations are its fields, in order; a class attribute is a
field's default) but built by Fact.__init__ instead of generated code: fourteen dataclasses cost
~6 ms of Python compiling before the first screen (Python 3.11 execs every generated method).
"""

from __future__ import annotations

from textual.message import Message


class Fact(Message):
    """A Message whose fields are its annotations: Fact(*values, **named), required unless defaulted."""

    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = tuple(cls.__dict__.get("__annotations__", {}))

    def __init__(self, *args, **kwargs) -> None:
        name = type(self).__name__
        if len(args) > len(self._fields):
            raise TypeError(f"{name} takes {len(self._fields)} values, {len(args)} given")
        values = dict(zip(self._fields, args))
        for key, value in kwargs.items():
            if key not in self._fields or key in values:
                raise TypeError(f"{name}: unexpected or repeated field {key!r}")
            values[key] = value
        missing = [f for f in self._fields if f not in values and not hasattr(type(self), f)]
        if missing:
            raise TypeError(f"{name} needs {', '.join(missing)}")
        self.__dict__.update(values)  # a field left out reads its class default
        super().__init__()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{f}={getattr(self, f)!r}' for f in self._fields)})"


class LessonsLoaded(Fact):
    lessons: object


class ProgressRead(Fact):
    """The learner's progress on the cluster about to be used, read before connecting to it."""

    progress: object


class EngineReady(Fact):
    """An engine on a cluster is ready; `notice` says why it is not the one asked for."""

    engine: object
    notice: str | None = None


class StartupFailed(Fact):
    title: str
    message: str
    fatal: bool = True


class ContextsListed(Fact):
    contexts: list[tuple[str, str]]
    current: str | None
    problem: str | None


class CommandStarted(Fact):
    display: str
    title: str | None


class OutputReceived(Fact):
    stream: str
    line: str


class CommandFinished(Fact):
    ok: bool
    summary: str


class StatusChanged(Fact):
    """A worker moved on to another phase (e.g. looking into why a check failed)."""

    text: str


class CheckCompleted(Fact):
    target: str
    result: object


class CheckObserved(Fact):
    """A check is still waiting and sees `text`, unchanged since `since` (time.monotonic)."""

    target: str
    check_id: str
    text: str
    since: float


class ExplanationReady(Fact):
    """An explanation asked for while the checks still wait (None: nothing fails right now)."""

    target: str
    explanation: dict | None


class StepFinished(Fact):
    """A run, solve, check, reset or fix of `target` ended, with its explanation if it failed."""

    target: str
    mode: str
    ok: bool
    checks: list = ()  # the checks' results (always given by the workers)
    cancelled: bool = False
    failure: str | None = None
    explanation: dict | None = None


class ResourcesChanged(Fact):
    label: str
    rows: list[dict]
    problem: str | None = None
