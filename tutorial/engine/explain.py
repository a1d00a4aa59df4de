"""Explain failed checks and commands: evidence -> signals -> the first matching rule -> words.

Evidence (evidence.py) becomes *signals*: one per condition, pod state, event, command output,
HTTP answer. Signals come in tiers, closest to the failure first (the route's own status before
its Gateway's, the Gateway's address before the HTTP 404). Within a tier the step's own rules
are tried first, then the built-in rules in order (most specific first); the first rule that
matches a signal (and its `facts`) explains the failure. Nothing here imports textual.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from tutorial.engine.evidence import base_evidence, command_evidence, gather_evidence
from tutorial.engine.explain_rules import (Rule, has_signal_keys, lesson_rule, load_rules, match_check,
                                           match_facts, match_signal)
from tutorial.engine.explain_rules.facts import facts_of
from tutorial.engine.explain_rules.signals import signal_tiers


@dataclass
class ExplanationView:
    """One explained failure, ready to print or serialise."""

    check_id: str
    check_title: str
    rule_id: str
    source: str                  # "lesson", "builtin" or "generic"
    title: str
    observed: list[str]
    why: str
    fix: str
    fix_command: list[str] | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self, *, with_evidence: bool | None = None) -> dict[str, Any]:
        out = {"check": self.check_id, "check_title": self.check_title, "rule": self.rule_id,
               "source": self.source, "title": self.title, "observed": self.observed, "why": self.why,
               "fix": self.fix, "fix_command": self.fix_command}
        if with_evidence or (with_evidence is None and self.source == "generic"):
            out["evidence"] = self.evidence
        return out


# -- matching and rendering -----------------------------------------------------------

def rules_for(step=None) -> list[Rule]:
    """The step's own explanations first, then the built-in rules."""
    own = [lesson_rule(e) for e in getattr(step, "explanations", ()) or ()]
    return own + list(load_rules())


def find_rule(ev: dict, rules: list[Rule], facts: dict) -> tuple[Rule, dict, dict] | None:
    """(rule, signal, captured groups) of the first match: the step's rules first, then built-in
    ones; each set tier by tier, rule by rule."""
    check = ev.get("check") or {}
    usable = [r for r in rules if match_check(r.when, check) and match_facts(r.when.get("facts") or {}, facts)]
    tiers = signal_tiers(ev)
    for group in ([r for r in usable if r.source == "lesson"], [r for r in usable if r.source != "lesson"]):
        found = _first_match(group, tiers)
        if found is not None:
            return found
    return None


def _first_match(rules: list[Rule], tiers: list[list[dict]]) -> tuple[Rule, dict, dict] | None:
    for tier in tiers:
        for rule in rules:
            if not has_signal_keys(rule.when):
                continue
            for signal in tier:
                groups = match_signal(rule.when, signal, rule.pattern)
                if groups is not None:
                    return rule, signal, groups
    for rule in rules:  # rules that name only the check or facts
        if not has_signal_keys(rule.when):
            return rule, {}, {}
    return None


class _Fill(string.Formatter):
    """str.format that records missing names instead of raising."""

    def __init__(self, values: dict):
        super().__init__()
        self.values, self.missing = values, set()

    def get_value(self, key, args, kwargs):
        value = self.values.get(key)
        if value in (None, ""):
            self.missing.add(key)
            return f"<{key}>"
        return value


def fill(template: str, values: dict) -> tuple[str, set]:
    f = _Fill(values)
    try:
        return f.format(template), f.missing
    except (ValueError, IndexError, AttributeError, KeyError):
        return template, set()


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")


def fill_text(template: str, values: dict) -> str:
    """The template filled in, sentence by sentence; a sentence naming something unknown is left
    out rather than shown with a placeholder (an explanation never says `<name>` or None)."""
    kept = []
    for sentence in _SENTENCE.split(template):
        text, missing = fill(sentence, values)
        if not missing:
            kept.append(text)
    return " ".join(kept)


_UNNAMED_WHY = ("The cluster reports the state quoted above, but not the names of the objects involved, so the "
                "tutorial cannot say more precisely why.")


def render(rule: Rule, ev: dict, signal: dict, values: dict) -> ExplanationView:
    check = ev.get("check") or {}
    observed = [check.get("observed")] if check.get("observed") else []
    said = " ".join(observed)
    if signal.get("quote") and signal["quote"] not in said and not (signal.get("message") and signal["message"] in said):
        observed.append(signal["quote"])
    argv = None
    if rule.fix_command:
        filled = [fill(a, values) for a in rule.fix_command]
        argv = None if any(m for _, m in filled) else [a for a, _ in filled]
    title, missing = fill(rule.title, values)
    if missing:  # the rule's own title needs a name we do not know: say what failed instead
        title = f"{check.get('title') or 'The check'} failed" if check.get("id") != "command" else \
            f"`{check.get('title')}` failed"
    fix = fill_text(rule.fix, values) or ("Fix what the output above names, then run the step again."
                                          if check.get("id") == "command" else
                                          "Read what the cluster shows above; `gateway-tutorial run` the step again.")
    return ExplanationView(check_id=check.get("id", ""), check_title=check.get("title", ""), rule_id=rule.id,
                           source=rule.source, title=title, observed=observed,
                           why=fill_text(rule.why, values) or _UNNAMED_WHY, fix=fix, fix_command=argv, evidence=ev)


def generic(ev: dict) -> ExplanationView:
    """No rule knows this failure: say so, and show everything that was gathered."""
    check = ev.get("check") or {}
    observed = [check.get("observed")] if check.get("observed") else []
    for tier in signal_tiers(ev):
        observed += [s["quote"] for s in tier if s.get("quote") and s["quote"] not in observed
                     and s.get("state") != "ok"][:6]
    obj = ev.get("object") or {}
    argv = None
    if obj.get("kind") and obj.get("name"):
        argv = ["kubectl", "describe", obj["kind"].lower(), obj["name"]] + (["-n", obj["namespace"]] if obj.get("namespace") else [])
    return ExplanationView(
        check_id=check.get("id", ""), check_title=check.get("title", ""), rule_id="generic", source="generic",
        title=f"{check.get('title') or 'The check'} failed, for a reason the tutorial does not recognise",
        observed=observed[:10],
        why="None of the tutorial's explanations matches what the cluster reports, so here is everything it "
            "gathered around the failure (also in `gateway-tutorial explain --json`).",
        fix="Read the conditions, pod states and events above, starting with the first. "
            + ("`kubectl describe` on the object shows the same with more context." if argv else
               "Then run the step again with `gateway-tutorial run` and compare."),
        fix_command=argv, evidence=ev)


def explain_evidence(ev: dict, step=None, rules: list[Rule] | None = None) -> ExplanationView:
    """The explanation of one failure from its evidence (pure: no cluster calls). Evidence of any
    shape is explained: fields of the wrong type are left out first (shape.conform), and if the
    rules still cannot read it, the explanation says so honestly instead of raising."""
    from tutorial.engine.explain_rules.shape import conform

    ev = conform(ev)
    try:
        return _explain_evidence(ev, step, rules)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        return unreadable(ev, exc)


def unreadable(ev: dict, exc: Exception) -> ExplanationView:
    """What we say when the evidence cannot be read: the check's own words, and how to look."""
    check = ev.get("check") or {}
    observed = [str(check["observed"])] if check.get("observed") else []
    return ExplanationView(
        check_id=str(check.get("id") or ""), check_title=str(check.get("title") or ""), rule_id="unreadable",
        source="generic", title=f"{check.get('title') or 'The check'} failed; the cluster's answer could not be read",
        observed=observed,
        why=f"The cluster reported the objects around this failure in a shape the tutorial does not expect "
            f"({type(exc).__name__}), so it cannot say more than what the check saw.",
        fix="Look at the objects yourself with `kubectl describe`, fix what their conditions and events name, "
            "and check the step again.", fix_command=None, evidence=ev)


def _explain_evidence(ev: dict, step=None, rules: list[Rule] | None = None) -> ExplanationView:
    values = facts_of(ev)
    found = find_rule(ev, rules if rules is not None else rules_for(step), values)
    if found is None:
        return generic(ev)
    rule, signal, groups = found
    about = {f"signal_{k}": signal.get(k) for k in ("object_kind", "name", "namespace", "type", "reason", "message")
             if signal.get(k) not in (None, "")}
    about["signal_kind_lower"] = str(signal.get("object_kind") or "").lower() or None
    if step is not None and getattr(step, "target", None):
        about["step_target"] = step.target
    return render(rule, ev, signal, {**values, **about, **groups})


def explain(step, results, outcome=None, engine=None) -> list:
    """Explanations of the step's failed command (if any) and of each failing check."""
    views = []
    failed = outcome.failed_command if outcome is not None else None
    if failed is not None:
        views.append(explain_evidence(command_evidence(failed), step))
    for result in results if results is not None else (outcome.checks if outcome else []):
        view = explain_result(engine, step, result)
        if view is not None:
            views.append(view)
    return views


@dataclass
class _FailedCommand:
    failed_command: Any


def step_explanation(engine, step, results=None, failed_command=None) -> dict | None:
    """The one explanation of a step's failure that the TUI panel shows, `explain` prints first and
    progress keeps: the failed command's (a CommandResult or its stored record) if any, else the
    first failing check's. JSON, without the raw evidence."""
    if isinstance(failed_command, dict):
        return explain_evidence(command_evidence(failed_command), step).to_json(with_evidence=False)
    outcome = _FailedCommand(failed_command) if failed_command is not None else None
    views = explain(step, list(results or []), outcome, engine)
    # in the step's order (checks are listed cause first), the first that a rule recognises
    known = [v for v in views if v.source != "generic"]
    return (known or views)[0].to_json(with_evidence=False) if views else None


def check_params(engine, step, check_id: str) -> dict:
    """The check's parameters with the lesson's variables filled in, as the engine ran them."""
    chk = next((c for c in getattr(step, "checks", ()) if c.id == check_id), None)
    if chk is None:
        return {}
    return engine.check_params(step, chk.params) if engine is not None else dict(chk.params)


def explain_result(engine, step, result) -> ExplanationView | None:
    """The explanation of one check result (None if it passed), gathering around it if possible."""
    if result.passed:
        return None
    params = check_params(engine, step, result.check_id)
    ev = gather_evidence(engine, result, params) if engine is not None else base_evidence(result, params)
    return explain_evidence(ev, step)


def explanation_json(engine, step, result) -> dict | None:
    """What `check --json` puts in a row's `explanation` field."""
    view = explain_result(engine, step, result)
    return view.to_json() if view is not None else None
