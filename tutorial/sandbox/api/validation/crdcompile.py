"""A CRD's x-kubernetes-validations checked when the CRD is written, as the API server compiles them.

apiextensions validation (pkg/apis/apiextensions/validation/validation.go at v0.32) compiles every
rule against the schema it sits on and refuses the CRD when one does not compile:
`<path>.x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{...}:
compilation failed: ERROR: <input>:1:5: undefined field 'replicaz'` with cel-go's source snippet.
Syntax errors come from the engine's parser (the same ANTLR grammar as cel-go, so the same words);
the type check here covers field references on `self`/`oldSelf` against the schema (the common
mistake); other type errors are not simulated. Each rule's estimated cost, and the CRD's total, are
held to the real limits (celcost.py). Rules whose
text the stored CRD already had are not re-checked (the server compiles those leniently).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

from tutorial.sandbox.api.validation import builtin, celcost, celparse
from tutorial.sandbox.api.validation.celengine import _cel, escape

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
CRD_ROOT_META = {"type": "object", "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}}}

Cause = tuple[str, str]
_STRING = re.compile(r"""(?s)[rR]?('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""")


def _go_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def rule_value(rule: dict) -> str:
    """The rule as Go's %#v prints the internal apiextensions.ValidationRule in a field error."""
    reason = "(*apiextensions.FieldValueErrorReason)(nil)" if rule.get("reason") is None else \
        "(*apiextensions.FieldValueErrorReason)(0xc000b1a2c0)"
    old_self = "(*bool)(nil)" if rule.get("optionalOldSelf") is None else "(*bool)(0xc000b1a2c8)"
    return (f"apiextensions.ValidationRule{{Rule:{_go_string(rule.get('rule', ''))}, "
            f"Message:{_go_string(rule.get('message', ''))}, "
            f"MessageExpression:{_go_string(rule.get('messageExpression', ''))}, Reason:{reason}, "
            f"FieldPath:{_go_string(rule.get('fieldPath', ''))}, OptionalOldSelf:{old_self}}}")


def display(text: str, column: int, message: str) -> str:
    """One cel-go issue: `ERROR: <input>:line:col: message` then the line and a caret (common/errors.go)."""
    line_no = text.count("\n", 0, column) + 1
    start = text.rfind("\n", 0, column) + 1
    line = text[start:].split("\n", 1)[0].replace("\t", " ")
    col = column - start
    return f"ERROR: <input>:{line_no}:{col + 1}: {message}\n | {line}\n | {'.' * col}^"


def syntax_issues(text: str) -> str | None:
    """The parser's issues for a rule that does not parse, in cel-go's layout; None when it parses."""
    try:
        _cel().compile(text)
    except Exception as e:  # noqa: BLE001 - the engine raises several types for syntax errors
        found = str(e)
        found = found[found.index("ERROR:"):] if "ERROR:" in found else found
        return "\n".join(" " + line if line.startswith("|") else line for line in found.split("\n"))
    return None


def _blank_strings(text: str) -> str:
    return _STRING.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def _resolved(schema: Any) -> Any:
    """A built-in definition's $ref (or a single allOf $ref) followed to the schema it names."""
    while isinstance(schema, dict):
        ref = schema.get("$ref") or next((a.get("$ref") for a in schema.get("allOf") or [] if "$ref" in a), None)
        if not isinstance(ref, str):
            break
        schema = builtin.definitions().get(ref.rsplit("/", 1)[-1])
    return schema


def _property(schema: dict, name: str, root: bool = False, full_meta: bool = False) -> tuple[bool, dict | None]:
    """(known, sub-schema) for a field selected on a value of this schema; sub None: stop checking.
    At a custom resource's root, metadata shows only name and generateName (cel/common WithTypeAndObjectMeta);
    full_meta: a policy's object, whose metadata is the whole ObjectMeta."""
    schema = _resolved(schema)
    if root and name == "metadata" and not full_meta:
        return True, CRD_ROOT_META
    if root and name == "metadata" and "metadata" not in (schema or {}).get("properties", {}):
        return True, {"$ref": "#/definitions/" + OBJECT_META}
    if root and name in ("apiVersion", "kind"):
        return True, None
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields") or \
            schema.get("x-kubernetes-int-or-string") or schema.get("x-kubernetes-embedded-resource"):
        return True, None
    props = schema.get("properties")
    if props is None:
        return True, None  # a map (additionalProperties) or a scalar: not a field selection we check
    for key, sub in props.items():
        if escape(key) == name:
            return True, sub
    return False, None


def field_issues(text: str, schema: dict, root: bool, names: tuple = ("self", "oldSelf"), raw: bool = False,
                 full_meta: bool = False) -> list:
    """`undefined field 'x'` for each self.a.b chain (names: the variables typed by schema) that names a
    field the schema lacks."""
    blank, issues = _blank_strings(text), []
    chain = re.compile(r"(?<![\w.])(" + "|".join(names) + r")\b")
    for match in chain.finditer(blank):
        node, pos, top = schema, match.end(), root
        while node is not None:
            step = re.match(r"\s*\.\s*([A-Za-z_]\w*)", blank[pos:])
            if not step or re.match(r"\s*\(", blank[pos + step.end():]):
                break
            known, sub = _property(node, step.group(1), top, full_meta)
            top = False
            if not known:
                issues.append((pos + blank[pos:].index("."), f"undefined field '{step.group(1)}'"))
                break
            node, pos = sub, pos + step.end()
    return sorted(issues) if raw else [display(text, col, message) for col, message in sorted(issues)]


def reference_issues(text: str, roots: set[str]) -> list[tuple[int, str]]:
    """(column, `undeclared reference to 'x' (in container '')`) for variables the environment lacks."""
    try:
        tree = celparse.parse(text)
    except (SyntaxError, IndexError):
        return []
    return [(n.pos, f"undeclared reference to '{n.value}' (in container '')")
            for n in celparse.free_identifiers(tree) if n.value not in roots and n.pos >= 0]


def _issues(text: str, schema: dict, root: bool) -> str:
    issues = syntax_issues(text)
    if issues:
        return issues
    found = field_issues(text, schema, root, raw=True) + reference_issues(text, {"self", "oldSelf"})
    return "\n".join(display(text, col, message) for col, message in sorted(found))


_BOOL_CALLS = {"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_&&_", "_||_", "!_", "@in", "matches", "contains",
               "startsWith", "endsWith", "isURL", "isIP", "isCIDR", "isQuantity", "bool"}
_OTHER_CALLS = {"_+_", "_-_", "_*_", "_/_", "_%_", "-_", "size", "string", "int", "uint", "double", "duration",
                "timestamp", "lowerAscii", "upperAscii", "trim", "split", "join", "replace", "substring"}


def result_type(text: str) -> str | None:
    """"bool", "string" or "other" when the expression's result type is plain from its shape; None otherwise
    (the real checker knows every type; this covers literals, operators and the common functions)."""
    try:
        node = celparse.parse(text)
    except (SyntaxError, IndexError):
        return None
    if node.kind == "lit":
        return "bool" if isinstance(node.value, bool) else "string" if isinstance(node.value, str) else "other"
    if node.kind in ("list", "map") or node.kind == "comp" and node.value in ("map", "filter"):
        return "other"
    if node.kind == "has" or node.kind == "comp" or node.kind == "call" and node.value in _BOOL_CALLS:
        return "bool"
    if node.kind == "call" and node.value in _OTHER_CALLS:
        return "string" if node.value in ("string", "lowerAscii", "upperAscii", "trim", "join", "replace",
                                          "substring") else "other" if node.value != "_+_" else None
    return None


def _rule_causes(rule: dict, schema: dict, where: str, root: bool) -> list[Cause]:
    """The rule's (and its messageExpression's) compilation errors; where: the path of its `rule`.
    (compilation.go: "cel expression must evaluate to a bool", "messageExpression must evaluate to a string")"""
    text, causes = rule.get("rule"), []
    problem = _issues(text, schema, root) if isinstance(text, str) and text.strip() else ""
    if problem:
        causes.append((where, f"Invalid value: {rule_value(rule)}: compilation failed: {problem}"))
    elif isinstance(text, str) and text.strip() and result_type(text) not in (None, "bool"):
        causes.append((where, f"Invalid value: {rule_value(rule)}: cel expression must evaluate to a bool"))
    message = rule.get("messageExpression")
    there = where.rsplit(".", 1)[0] + ".messageExpression"
    problem = _issues(message, schema, root) if isinstance(message, str) and message.strip() else ""
    if problem:
        causes.append((there, f"Invalid value: {rule_value(rule)}: messageExpression compilation failed: {problem}"))
    elif isinstance(message, str) and message.strip() and result_type(message) not in (None, "string"):
        causes.append((there, f"Invalid value: {rule_value(rule)}: messageExpression must evaluate to a string"))
    return causes


def _walk(schema: Any, path: str, known: set[str], cardinality: int | None, found: list, costs: list,
          root: bool = False) -> None:
    """Causes for the rules at and under schema; costs collects (path, estimated cost) for the CRD total."""
    if not isinstance(schema, dict):
        return
    for n, rule in enumerate(schema.get("x-kubernetes-validations") or []):
        if not isinstance(rule, dict) or rule.get("rule") in known:
            continue
        where = f"{path}.x-kubernetes-validations[{n}].rule"
        causes = _rule_causes(rule, schema, where, root)
        compiled = not causes
        cost = celcost.rule_cost(rule.get("rule") or "", schema, cardinality) if compiled else None
        if cost is not None and cost > celcost.STATIC_LIMIT:
            causes.append((where, "Forbidden: " + celcost.budget_message("estimated rule cost", cost,
                                                                         celcost.STATIC_LIMIT)))
        if cost is not None:
            costs.append((where, cost))
        found.extend(causes)
        message = rule.get("messageExpression")
        # compilation.go: MessageExpressionMaxCost is the estimate alone (not times the cardinality)
        cost = celcost.estimate(message, schema) if isinstance(message, str) and message.strip() and compiled \
            else None
        if cost is not None:
            there = where.rsplit(".", 1)[0] + ".messageExpression"
            if cost > celcost.STATIC_LIMIT:
                found.append((there, "Forbidden: " + celcost.budget_message("estimated messageExpression cost", cost,
                                                                            celcost.STATIC_LIMIT)))
            costs.append((there, cost))
    for key, sub in (schema.get("properties") or {}).items():
        _walk(sub, f"{path}.properties[{key}]", known, cardinality, found, costs)
    child = celcost.child_cardinality(cardinality, schema)
    if isinstance(schema.get("items"), dict):
        _walk(schema["items"], f"{path}.items", known, child, found, costs)
    if isinstance(schema.get("additionalProperties"), dict):
        _walk(schema["additionalProperties"], f"{path}.additionalProperties", known, child, found, costs)


def _total_causes(base: str, costs: list[tuple[str, int]]) -> list[Cause]:
    """The CRD-wide estimate (validation.go TotalCost): the four most expensive rules named, then the total."""
    total = min(celcost.MAX, sum(c for _, c in costs))
    if total <= celcost.STATIC_CRD_LIMIT:
        return []
    expensive = sorted((c for c in costs if c[1] >= celcost.STATIC_CRD_LIMIT // 100), key=lambda c: -c[1])[:4]
    causes = [(p, "Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 "
                  "schema") for p, _ in expensive]
    message = celcost.budget_message("x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema",
                                     total, celcost.STATIC_CRD_LIMIT)
    return causes + [(base, f"Forbidden: {message}")]


def _rules(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {r.get("rule") for r in node.get("x-kubernetes-validations") or [] if isinstance(r, dict)}
        return own | {t for v in node.values() for t in _rules(v)}
    if isinstance(node, list):
        return {t for v in node for t in _rules(v)}
    return set()


_CAUSES: dict[bytes, list[Cause]] = {}  # content digest -> causes: every cluster installs the same CRDs
_CAUSES_KEPT = 256
_CAUSES_LOCK = threading.Lock()


def crd_causes(crd: dict, old: dict | None) -> list[Cause]:
    """Causes for every rule of a CRD that does not compile or is estimated too costly.

    A pure function of the schemas and the rules the old CRD had, so the answer is kept per
    content (the fleet's clusters of one process install the same Gateway API and Istio CRDs)."""
    versions = [v for v in ((crd.get("spec") or {}).get("versions") or []) if isinstance(v, dict)]
    schemas = [((v.get("schema") or {}).get("openAPIV3Schema")) for v in versions]
    known = _rules(old.get("spec")) if old else set()
    try:
        text = json.dumps([schemas, sorted(repr(r) for r in known)], separators=(",", ":"))
    except (TypeError, ValueError):
        return _crd_causes(schemas, known)
    digest = hashlib.sha256(text.encode()).digest()
    with _CAUSES_LOCK:
        kept = _CAUSES.get(digest)
    if kept is None:
        kept = _crd_causes(schemas, known)
        with _CAUSES_LOCK:
            if len(_CAUSES) >= _CAUSES_KEPT:
                _CAUSES.pop(next(iter(_CAUSES)))
            _CAUSES[digest] = kept
    return list(kept)


def _crd_causes(schemas: list, known: set) -> list[Cause]:
    found: list[Cause] = []
    if schemas and all(s == schemas[0] for s in schemas):  # one schema for all: shown as spec.validation
        bases = [("spec.validation.openAPIV3Schema", schemas[0])]
    else:
        bases = [(f"spec.versions[{n}].schema.openAPIV3Schema", schema) for n, schema in enumerate(schemas)]
    for base, schema in bases:
        costs: list = []
        _walk(schema, base, known, 1, found, costs, root=True)
        found.extend(_total_causes(base, costs))
    return found
