"""The lesson format as data: every object, its fields and their types.

One description drives both the lint (`validate.py`) and the shipped JSON Schema (`schema.py`),
so the two cannot drift apart. Check kinds live in `checkspec.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
VARIABLE_PATTERN = r"^[a-z_][a-z0-9_-]*$"  # lesson variable names: {app_namespace}
_SLUG = re.compile(SLUG_PATTERN)


@dataclass(frozen=True)
class Scalar:
    """string, integer, number, boolean or slug."""

    name: str


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class ListOf:
    item: Any
    min_items: int = 0


@dataclass(frozen=True)
class MapOf:
    """A mapping from names (matching key_pattern) to values of one type."""

    value: Any
    key_pattern: str = SLUG_PATTERN


@dataclass(frozen=True)
class Ref:
    """A nested object, by name in OBJECTS (or "check", which checkspec describes)."""

    name: str


@dataclass(frozen=True)
class Field:
    type: Any
    required: bool = False
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class ObjSpec:
    fields: dict[str, Field]
    one_of: tuple[tuple[str, ...], ...] = ()  # exactly one key of each group must be present
    min_props: int = 0


MINUTES = (1, 240)  # a lesson's (or challenge's) expected minutes must lie in this range
STRING, INTEGER, NUMBER = Scalar("string"), Scalar("integer"), Scalar("number")
BOOLEAN, SLUG = Scalar("boolean"), Scalar("slug")
ARGV = ListOf(STRING, min_items=1)

# Facts doctor establishes that a step may branch on with `verify_when` (tutorial.engine.preflight).
VERIFY_FACTS = ("istio_ready", "istio_installed", "gateway_api_present", "gateway_api_newer", "lb_available")

OBJECTS: dict[str, ObjSpec] = {
    "lesson": ObjSpec({
        "format_version": Field(Const(FORMAT_VERSION), True, doc="always 1"),
        "id": Field(SLUG, True, doc="unique lesson id"),
        "title": Field(STRING, True),
        "order": Field(INTEGER, True, doc="position in the tutorial (unique)"),
        "summary": Field(STRING, True),
        "requires": Field(ListOf(SLUG), doc="lesson ids that must be done first"),
        "variables": Field(MapOf(STRING, VARIABLE_PATTERN), doc="lesson-defined {variables}"),
        "variants": Field(ListOf(Ref("variant"))),
        "steps": Field(ListOf(Ref("step"), min_items=1), True),
        "objectives": Field(ListOf(STRING, min_items=1), doc="what the learner can do afterwards, one "
                            "sentence each (shown to learners and instructors)"),
        "minutes": Field(INTEGER, doc=f"expected minutes for a learner ({MINUTES[0]}-{MINUTES[1]})"),
        "instructor_notes": Field(STRING, doc="for the instructor: pitfalls, timing, what to demo "
                                  "(shown by `lessons --instructor`)"),
    }),
    "variant": ObjSpec({
        "id": Field(SLUG, True), "title": Field(STRING, True),
        "summary": Field(STRING), "default": Field(BOOLEAN, default=False),
    }),
    "step": ObjSpec({
        "id": Field(SLUG, True), "title": Field(STRING, True), "text": Field(STRING, True),
        "variant": Field(SLUG), "manifests": Field(ListOf(Ref("manifest"))),
        "commands": Field(ListOf(Ref("command"))), "checks": Field(ListOf(Ref("check"))),
        "hints": Field(ListOf(STRING)), "solve": Field(ListOf(Ref("command"))),
        "cleanup": Field(ListOf(Ref("command"))),
        "explanations": Field(ListOf(Ref("explanation"))),
        "optional": Field(BOOLEAN, default=False),
        "verify_when": Field(STRING, doc="an environment fact (see VERIFY_FACTS): when doctor finds it "
                             "true, the step only verifies what is there instead of running its commands"),
        "break": Field(Ref("break"), doc="makes the step a break-and-fix challenge: what breaks the "
                       "finished lab; the checks pass when the learner has repaired it"),
    }),
    "break": ObjSpec({
        "symptom": Field(STRING, True, doc="what the learner is told broke (never the cause)"),
        "commands": Field(ListOf(Ref("command"), min_items=1), True,
                          doc="what the tutorial runs to break the lab, shown as 'something broke'"),
        "sandbox_only": Field(BOOLEAN, default=False, doc="the break switches a sandbox fault: the "
                              "challenge is offered on the simulated cluster only"),
        "minutes": Field(INTEGER, doc=f"expected minutes for a learner ({MINUTES[0]}-{MINUTES[1]})"),
        "objectives": Field(ListOf(STRING, min_items=1), doc="what the learner practises, one sentence each"),
    }),
    "manifest": ObjSpec({
        "id": Field(SLUG, True), "title": Field(STRING),
        "file": Field(STRING, doc="path relative to the assets directory"),
        "content": Field(STRING, doc="inline YAML"),
    }, one_of=(("file", "content"),)),
    "command": ObjSpec({
        "run": Field(ARGV, True, doc="argv, never a shell string"),
        "stdin": Field(SLUG, doc="manifest id fed to stdin"),
        "title": Field(STRING), "timeout": Field(NUMBER, default=300),
        "ok_exit_codes": Field(ListOf(INTEGER), default=(0,)),
        "show_only": Field(BOOLEAN, default=False),
    }),
    "explanation": ObjSpec({
        "id": Field(SLUG, True), "when": Field(Ref("when"), True),
        "title": Field(STRING, True), "why": Field(STRING, True), "fix": Field(STRING, True),
        "fix_command": Field(ARGV),
    }),
    "when": ObjSpec({
        "check": Field(SLUG), "kind": Field(STRING), "type": Field(STRING),
        "status": Field(STRING), "reason": Field(STRING), "message_contains": Field(STRING),
        "output_contains": Field(STRING), "http_status": Field(INTEGER),
    }, min_props=1),
    "parent": ObjSpec({
        "name": Field(STRING, True), "namespace": Field(STRING, True),
        "section_name": Field(STRING),
    }),
    "through_gateway": ObjSpec({
        "name": Field(STRING, True), "namespace": Field(STRING, True), "listener": Field(STRING),
    }),
}


def type_ok(typ: Scalar | Const, value: Any) -> bool:
    """Whether a scalar value has the type (bool is never an integer or number)."""
    if isinstance(typ, Const):
        return type(value) is type(typ.value) and value == typ.value
    name = typ.name
    if name == "string":
        return isinstance(value, str)
    if name == "slug":
        return isinstance(value, str) and _SLUG.match(value) is not None
    if name == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if name == "integer":
        return isinstance(value, int)
    return isinstance(value, (int, float))


def expected(typ: Any) -> str:
    """A person's words for what a type wants."""
    if isinstance(typ, Const):
        return f"exactly {typ.value!r}"
    if isinstance(typ, Scalar):
        return {
            "string": "a string", "integer": "a whole number", "number": "a number",
            "boolean": "true or false",
            "slug": "an id of lowercase letters, digits and '-' (like 'apply-gateway')",
        }[typ.name]
    if isinstance(typ, ListOf):
        return f"a list of {_plural(typ.item)}"
    if isinstance(typ, MapOf):
        return f"a mapping of names to {_plural(typ.value)}"
    return f"a mapping (a {typ.name.replace('_', ' ')})"


def _plural(typ: Any) -> str:
    if isinstance(typ, Ref):
        return f"{typ.name.replace('_', ' ')}s"
    if isinstance(typ, Scalar):
        return {"string": "strings", "integer": "whole numbers", "number": "numbers",
                "boolean": "booleans", "slug": "ids"}[typ.name]
    return "values"


def describe(value: Any) -> str:
    """A person's words for what a value is."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
