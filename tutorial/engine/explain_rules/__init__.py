"""Built-in explanation rules: YAML data, one file per family, tried in FAMILIES order.

Within a file rules are ordered most specific first; the first rule whose `when` matches a
signal wins. `load_rules()` validates every rule, so a typo in a rule file fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

# Most specific families first: errors a command printed, Istio's own texts, pod states,
# Gateway API reasons, what HTTP through the Gateway answered, and last the catch-alls.
FAMILIES = ("cli", "istio", "pods", "gateway_api", "http", "fallback")

SIGNAL_KEYS = {"source", "object_kind", "type", "status", "reason", "state", "message_contains",
               "output_contains", "pattern", "http_status", "exit_code", "problem"}
CHECK_KEYS = {"check", "kind"}
WHEN_KEYS = SIGNAL_KEYS | CHECK_KEYS | {"facts"}
RULE_KEYS = {"id", "when", "title", "why", "fix", "fix_command", "covers", "catalog"}


class RuleError(ValueError):
    """A rule file that does not follow the rule format; the message names file and rule."""


@dataclass(frozen=True)
class Rule:
    """One explanation: when it applies, and what to tell the learner (templates)."""

    id: str
    when: dict[str, Any]
    title: str
    why: str
    fix: str
    fix_command: tuple[str, ...] | None = None
    covers: tuple[str, ...] = ()      # reasons / error texts this rule explains (for the docs table)
    catalog: tuple[str, ...] = ()     # failure-catalog scenario ids it explains
    family: str = ""
    source: str = "builtin"           # "builtin" or "lesson"
    pattern: re.Pattern | None = field(default=None, compare=False)


def rules_dir() -> Path:
    return Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """Every built-in rule, families in FAMILIES order, file order within a family."""
    import yaml

    out: list[Rule] = []
    seen: set[str] = set()
    for family in FAMILIES:
        path = rules_dir() / f"{family}.yaml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            raise RuleError(f"{path.name}: not valid YAML: {exc}") from exc
        for raw in data:
            rule = make_rule(raw, family=family, where=path.name)
            if rule.id in seen:
                raise RuleError(f"{path.name}: rule id {rule.id!r} is used twice")
            seen.add(rule.id)
            out.append(rule)
    return tuple(out)


def make_rule(raw: dict, *, family: str = "", where: str = "", source: str = "builtin") -> Rule:
    """A Rule from its YAML mapping, checking keys and types."""
    rid = raw.get("id", "?") if isinstance(raw, dict) else "?"
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: every rule must be a mapping, got {raw!r}")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: rule {rid}: unknown key(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
    when = raw.get("when") or {}
    bad = set(when) - WHEN_KEYS
    if bad or not when:
        raise RuleError(f"{where}: rule {rid}: `when` needs some of {sorted(WHEN_KEYS)}, got {sorted(when)}")
    for key in ("id", "title", "why", "fix"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RuleError(f"{where}: rule {rid}: {key} must be a non-empty string")
    pattern = None
    if when.get("pattern"):
        try:
            pattern = re.compile(when["pattern"])
        except re.error as exc:
            raise RuleError(f"{where}: rule {rid}: bad pattern: {exc}") from exc
    fix_command = raw.get("fix_command")
    return Rule(id=raw["id"], when=dict(when), title=raw["title"].strip(), why=raw["why"].strip(),
                fix=raw["fix"].strip(), fix_command=tuple(str(a) for a in fix_command) if fix_command else None,
                covers=tuple(raw.get("covers") or ()), catalog=tuple(raw.get("catalog") or ()),
                family=family, source=source, pattern=pattern)


def lesson_rule(expl) -> Rule:
    """A lesson step's Explanation as a Rule (its `when` keys are a subset of ours)."""
    return make_rule({"id": expl.id, "when": dict(expl.when), "title": expl.title, "why": expl.why,
                      "fix": expl.fix, "fix_command": list(expl.fix_command) if expl.fix_command else None},
                     family="lesson", where=f"{expl.file}:{expl.line}", source="lesson")


# -- matching -------------------------------------------------------------------------

def _any_of(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _text_of(signal: dict) -> str:
    return "\n".join(str(signal.get(k) or "") for k in ("message", "text"))


def match_signal(when: dict, signal: dict, pattern: re.Pattern | None) -> dict | None:
    """The captured pattern groups ({} if none) when every signal key of `when` holds, else None.
    `problem: true` skips signals that are healthy (a condition in its good state)."""
    if when.get("problem") and signal.get("state") == "ok":
        return None
    for key in ("source", "object_kind", "type", "reason", "state"):
        if key in when and signal.get(key) not in _any_of(when[key]):
            return None
    if "status" in when and str(signal.get("status")) not in [str(v) for v in _any_of(when["status"])]:
        return None
    for key in ("http_status", "exit_code"):
        if key in when and signal.get(key) not in _any_of(when[key]):
            return None
    text = _text_of(signal)
    for key in ("message_contains", "output_contains"):
        if key in when and not any(str(s).lower() in text.lower() for s in _any_of(when[key])):
            return None
    if pattern is not None:
        found = pattern.search(text)
        if found is None:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}
    return {}


def match_facts(wanted: dict, facts: dict) -> bool:
    """Each wanted fact equals (or, for a list, is one of) the fact; "*" means present.
    A fact that is absent matches nothing, not even `false`: unknown is not no."""
    for key, value in wanted.items():
        have = facts.get(key)
        if have is None:
            return False
        if value == "*":
            if have in ("", [], {}):
                return False
        elif isinstance(value, bool):
            if bool(have) != value:
                return False
        elif have not in _any_of(value) and str(have) not in [str(v) for v in _any_of(value)]:
            return False
    return True


def match_check(when: dict, check: dict) -> bool:
    if "check" in when and check.get("id") not in _any_of(when["check"]):
        return False
    return not ("kind" in when and check.get("kind") not in _any_of(when["kind"]))


def has_signal_keys(when: dict) -> bool:
    return bool(set(when) & SIGNAL_KEYS)
