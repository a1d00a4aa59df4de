"""A CRD's `x-kubernetes-validations` rules, evaluated over an object the way the API server does.

Each rule runs with `self` bound to the value at the schema node that carries it. Transition
rules (those that mention `oldSelf`) run only on an update where the old value can be correlated
(object properties, map values, items of `x-kubernetes-list-type: map` lists by their keys), unless
the rule sets `optionalOldSelf`. A failed rule becomes a cause in the API server's words:
`spec.rules[0]: Invalid value: "object": <message>` (message, messageExpression, or
`failed rule: <rule>`; `reason` and `fieldPath` honoured).
"""

from __future__ import annotations

import re
from typing import Any

from tutorial.sandbox.api.validation import celcost
from tutorial.sandbox.api.validation.celengine import CelError, CelUnsupported, escape, evaluate, optional

Cause = tuple[str, str]
_ABSENT = object()
_OLD_SELF = re.compile(r"\boldSelf\b")


def to_cel(value: Any, schema: dict) -> Any:
    """The value as a rule sees it: object property names escaped, map keys left alone."""
    if isinstance(value, dict):
        props = schema.get("properties")
        if props is not None:
            return {escape(k): to_cel(v, props.get(k) or {}) for k, v in value.items()}
        extra = schema.get("additionalProperties")
        sub = extra if isinstance(extra, dict) else {}
        return {k: to_cel(v, sub) for k, v in value.items()}
    if isinstance(value, list):
        sub = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [to_cel(v, sub) for v in value]
    return value


def _type_name(schema: dict, value: Any) -> str:
    if schema.get("type"):
        return schema["type"]
    return "object" if isinstance(value, dict) else "array" if isinstance(value, list) else "string"


def _cause(path: str, schema: dict, value: Any, rule: dict, message: str) -> Cause:
    field = (path + rule["fieldPath"]) if rule.get("fieldPath") else path
    reason = rule.get("reason") or "FieldValueInvalid"
    if reason == "FieldValueForbidden":
        return field, f"Forbidden: {message}"
    if reason == "FieldValueRequired":
        return field, f"Required value: {message}"
    if reason == "FieldValueDuplicate":
        return field, f'Duplicate value: "{_type_name(schema, value)}"'
    return field, f'Invalid value: "{_type_name(schema, value)}": {message}'


def _message(rule: dict, variables: dict) -> str:
    if rule.get("messageExpression"):
        try:
            text = evaluate(rule["messageExpression"], variables)
            if isinstance(text, str) and text.strip():
                return text
        except CelError:
            pass  # the API server falls back to the static message too
    return rule.get("message") or f"failed rule: {rule['rule']}"


def _spend(rule: dict, schema: dict, value: Any, old: Any, budget: list) -> str | None:
    """Charge the rule's run-time cost (celcost.py) to the object's budget; the refusal when over a limit."""
    cost = celcost.actual(rule.get("rule", ""), schema, value, celcost.ABSENT if old is _ABSENT else old)
    if cost is None:
        return None
    shown = (rule.get("message") or "").strip() or rule.get("rule", "").strip()
    if cost > celcost.PER_CALL_LIMIT:
        budget[0] = -1
        return ("'operation cancelled: actual cost limit exceeded': no further validation rules will be run due "
                f"to call cost exceeds limit for rule: {shown}")
    if cost > budget[0]:
        budget[0] = -1
        return "validation failed due to running out of cost budget, no further validation rules will be run"
    budget[0] -= cost
    return None


def _run_rules(schema: dict, value: Any, old: Any, path: str, notes: list | None, budget: list) -> list[Cause]:
    causes: list[Cause] = []
    for rule in schema.get("x-kubernetes-validations") or []:
        if budget[0] < 0:
            break
        text = rule.get("rule", "")
        transition = bool(_OLD_SELF.search(text))
        if not transition and old is not _ABSENT and old == value:
            continue  # validation ratcheting (on in v1.32): an unchanged value keeps passing
        variables = {"self": to_cel(value, schema)}
        if transition:
            if rule.get("optionalOldSelf"):
                variables["oldSelf"] = optional(None if old is _ABSENT else to_cel(old, schema))
            elif old is _ABSENT:
                continue
            else:
                variables["oldSelf"] = to_cel(old, schema)
        over = _spend(rule, schema, value, old, budget)
        if over:
            causes.append(_cause(path, schema, value, {}, over))
            break
        try:
            ok = evaluate(text, variables)
        except CelUnsupported as e:
            if notes is not None:
                notes.append(f"x-kubernetes-validations rule at {path} was not checked: {e} "
                             "(not simulated by the sandbox's CEL engine)")
            continue
        except CelError as e:
            # apiextensions schema/cel/validation.go: ruleErrorString (the message when set, else the rule)
            shown = (rule.get("message") or "").strip() or text.strip()
            causes.append(_cause(path, schema, value, {}, f"{e} evaluating rule: {shown}"))
            continue
        if ok is not True:
            causes.append(_cause(path, schema, value, rule, _message(rule, variables)))
    return causes


def _list_key(item: Any, keys: list[str]) -> tuple | None:
    if not isinstance(item, dict):
        return None
    return tuple(item.get(k) for k in keys)


def _old_items(schema: dict, old: Any) -> dict | None:
    """Old items of a list-type=map list by key, for correlating transition rules; None otherwise."""
    keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return None
    return {_list_key(item, keys): item for item in old}


def _children(schema: dict, value: Any, old: Any, path: str, notes: list | None, budget: list) -> list[Cause]:
    causes: list[Cause] = []
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        old_map = old if isinstance(old, dict) else {}
        for key, sub in value.items():
            node = props.get(key)
            if node is not None:
                if not path and key == "metadata":
                    continue
                where = f"{path}.{key}" if path else key
                causes += check(node, sub, old_map.get(key, _ABSENT), where, notes, budget)
            elif isinstance(extra, dict):
                causes += check(extra, sub, old_map.get(key, _ABSENT), f"{path}[{key}]", notes, budget)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        olds = _old_items(schema, old)
        keys = schema.get("x-kubernetes-list-map-keys") or []
        for n, item in enumerate(value):
            before = olds.get(_list_key(item, keys), _ABSENT) if olds is not None else _ABSENT
            causes += check(schema["items"], item, before, f"{path}[{n}]", notes, budget)
    return causes


def check(schema: dict, value: Any, old: Any = _ABSENT, path: str = "", notes: list | None = None,
          budget: list | None = None) -> list[Cause]:
    """Causes for every failing rule in schema over value (old is the stored value, or absent);
    rules the engine cannot run are skipped with a line in notes (a Warning header); budget: the
    object's remaining run-time cost ([RuntimeCELCostBudget] at the root)."""
    budget = budget if budget is not None else [celcost.RUNTIME_BUDGET]
    if value is None or not isinstance(schema, dict) or budget[0] < 0:
        return []
    own = _run_rules(schema, value, old, path or "<root>", notes, budget)
    return own + (_children(schema, value, old, path, notes, budget) if budget[0] >= 0 else [])


def check_object(schema: dict, obj: dict, old: dict | None, notes: list | None = None) -> list[Cause]:
    """Causes for a whole custom object against its version's openAPIV3Schema."""
    return check(schema, obj, old if old is not None else _ABSENT, "", notes)


def has_rules(schema: Any) -> bool:
    """True when any node of schema carries x-kubernetes-validations (cheap skip for plain CRDs)."""
    if not isinstance(schema, dict):
        return False
    if schema.get("x-kubernetes-validations"):
        return True
    subs = list((schema.get("properties") or {}).values()) + [schema.get("items"), schema.get("additionalProperties")]
    return any(has_rules(s) for s in subs)
