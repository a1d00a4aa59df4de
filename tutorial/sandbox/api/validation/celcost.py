"""CEL cost as the API server limits it: estimated at CRD creation, counted at run time.

The model is cel-go's (checker/cost.go, interpreter/runtimecost.go at v0.22): identifiers and field
selection cost 1, most calls 1 plus their arguments, string work 0.1 per character, `matches` the
string's cost times a quarter of the regex length, comprehensions their range size times the cost
of one step. Sizes come from the schema as k8s.io/apiserver/pkg/cel/common/schemas.go derives them:
maxItems / maxProperties / maxLength (x4, bytes per character), or, when a list, map or string is
unbounded, what still fits in a 3 MiB request. The limits are the real constants: a rule may be
estimated at most StaticEstimatedCostLimit, a CRD's rules together StaticEstimatedCRDCostLimit, one
evaluation may cost PerCallLimit and all the rules of one object RuntimeCELCostBudget. Messages as
apiextensions validation.go getCostErrorMessage and schema/cel/validation.go word them.
"""

from __future__ import annotations

import math
from typing import Any

from tutorial.sandbox.api.validation.celengine import escape
from tutorial.sandbox.api.validation.celparse import Node, parse

PER_CALL_LIMIT = 1_000_000  # k8s.io/apiserver/pkg/apis/cel/config.go PerCallLimit
RUNTIME_BUDGET = 10_000_000  # RuntimeCELCostBudget
STATIC_LIMIT = 10_000_000  # apiextensions validation.go StaticEstimatedCostLimit
STATIC_CRD_LIMIT = 100_000_000  # StaticEstimatedCRDCostLimit
MAX_REQUEST = 3 * 1024 * 1024  # MaxRequestSizeBytes
MAX = 2 ** 64 - 1
# string formats typed as durations and timestamps: (MinSerializedSize, MaxElements) (cel/limits.go)
_FORMAT_SIZES = {"duration": (3, 32), "date": (12, 12), "date-time": (21, 32)}
_SCALAR_TYPES = {"integer", "number", "boolean"}
ABSENT = object()
_TRAVERSE = {"lowerAscii", "upperAscii", "trim", "charAt", "indexOf", "lastIndexOf", "substring", "replace",
             "split", "join", "isURL", "url", "isIP", "ip", "isCIDR", "cidr", "quantity", "isQuantity"}
# calls whose result is a scalar (bool, int, double, duration, timestamp): size 1 (checker isScalar)
_SCALAR_CALLS = {"_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_", "_&&_", "_||_", "!_", "-_", "_-_", "_*_", "_/_",
                 "_%_", "@in", "size", "matches", "contains", "startsWith", "endsWith", "int", "uint", "double",
                 "bool", "duration", "timestamp", "getSeconds", "getMinutes", "getHours", "getMilliseconds",
                 "isURL", "isIP", "isCIDR", "isQuantity", "exists", "all", "exists_one", "hasValue", "family",
                 "prefixLength", "sign", "compareTo", "asInteger", "asApproximateFloat", "isInteger", "isGreaterThan",
                 "isLessThan", "containsIP", "containsCIDR", "isLoopback", "isUnspecified", "isGlobalUnicast",
                 "isLinkLocalUnicast", "isLinkLocalMulticast", "indexOf", "lastIndexOf"}


def _add(*values: int) -> int:
    return min(MAX, sum(values))


def _mul(a: int, b: int) -> int:
    return MAX if a and b and a > MAX // b else a * b


def _factor(size: int, factor: float) -> int:
    return MAX if size >= MAX else int(math.ceil(size * factor))


def min_size(schema: dict) -> int:
    """DeclType.MinSerializedSize: the smallest JSON a value of this schema can take."""
    if schema.get("x-kubernetes-int-or-string"):
        return 1
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        required = set(schema.get("required") or [])
        return 2 + sum(len(k) + min_size(v) + 4 for k, v in schema["properties"].items()
                       if k in required and "default" not in v)
    if kind == "string" and schema.get("format") in _FORMAT_SIZES:
        return _FORMAT_SIZES[schema["format"]][0]
    return {"integer": 1, "number": 1, "boolean": 4}.get(kind, 2)


def schema_size(schema: dict) -> int:
    """MaxElements of the DeclType for this schema (0 for numbers, booleans and objects, as upstream)."""
    if schema.get("x-kubernetes-int-or-string"):
        return MAX_REQUEST - 2
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return schema["maxItems"] if "maxItems" in schema else (MAX_REQUEST - 2) // (min_size(items) + 1)
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return schema["maxProperties"] if "maxProperties" in schema else \
            (MAX_REQUEST - 2) // (min_size(schema["additionalProperties"]) + 6)
    if kind == "string":
        if schema.get("format") in _FORMAT_SIZES:
            return _FORMAT_SIZES[schema["format"]][1]
        if "maxLength" in schema:
            return schema["maxLength"] * 4
        if schema.get("enum"):
            return max(len(v) for v in schema["enum"] if isinstance(v, str)) if any(
                isinstance(v, str) for v in schema["enum"]) else 0
        return MAX_REQUEST - 2
    return 0


def max_cardinality(schema: dict) -> int:
    """compilation.go maxCardinality: how often a value of this schema fits in one request."""
    return MAX_REQUEST // (min_size(schema) + 1)


class _Cost:
    """One estimate: static (schemas only) or actual (the values at hand)."""

    def __init__(self, actual: bool):
        self.actual = actual

    def resolve(self, node: Node, env: dict) -> tuple[dict | None, Any]:
        """(schema, value) a path node names, or (None, ABSENT)."""
        if node.kind == "ident":
            return env.get(node.value, (None, ABSENT))
        if node.kind == "select":
            schema, value = self.resolve(node.target, env)
            if schema is None and isinstance(value, dict):  # untyped (a policy's object): the values alone
                return None, value.get(node.value, ABSENT)
            if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
                return None, ABSENT
            props = schema.get("properties") or {}
            for key, sub in props.items():
                if escape(key) == node.value:
                    return sub, value.get(key, ABSENT) if isinstance(value, dict) else ABSENT
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):  # a map read like a field: the size estimator finds no such field
                return dict(extra, **{"x-unsized": True}), value.get(node.value, ABSENT) if isinstance(value, dict) \
                    else ABSENT
        if node.kind == "index":
            schema, value = self.resolve(node.args[0], env)
            sub = None
            if isinstance(schema, dict):
                sub = schema.get("items") if schema.get("type") == "array" else schema.get("additionalProperties")
            key = node.args[1].value if node.args[1].kind == "lit" else self.resolve(node.args[1], env)[1]
            try:
                found = value[key] if isinstance(value, (dict, list)) and key is not ABSENT else ABSENT
            except (KeyError, IndexError, TypeError):
                found = ABSENT
            return (sub if isinstance(sub, dict) else None), found
        return None, ABSENT

    def size(self, node: Node, env: dict) -> int:
        if node.kind == "lit":
            value = node.value
            return len(value) if isinstance(value, (str, bytes)) else 1
        if node.kind == "list":
            return len(node.args)
        if node.kind == "map":
            return len(node.args) // 2
        if node.kind == "comp" and node.value in ("map", "filter"):
            return self.range_size(node.target, env)
        if node.kind == "call" and node.value == "_+_":
            return _add(self.size(node.args[0], env), self.size(node.args[1], env))
        if node.kind == "call" and node.value == "_?_:_":
            return max(self.size(node.args[1], env), self.size(node.args[2], env))
        if node.kind in ("call", "comp", "has") and (node.value in _SCALAR_CALLS or node.kind == "has"):
            return 1
        schema, value = self.resolve(node, env)
        if self.actual and value is not ABSENT:
            return len(value) if isinstance(value, (str, list, dict)) else 1
        if isinstance(schema, dict) and not self.actual:
            if schema.get("x-unsized"):  # checker: scalars count 1, anything else is unbounded
                return 1 if schema.get("type") in _SCALAR_TYPES else MAX
            return schema_size(schema)
        # at run time a value that is not there is never measured (the branch is skipped or fails first)
        return 1 if self.actual else MAX

    def is_string(self, args: list[Node], env: dict) -> bool:
        """Whether an ordering compares strings (LessString...) rather than numbers (LessInt64...)."""
        for arg in args:
            if arg.kind == "lit":
                return isinstance(arg.value, str)
            schema, value = self.resolve(arg, env)
            if isinstance(schema, dict):
                return schema.get("type") == "string" and schema.get("format") not in _FORMAT_SIZES
            if value is not ABSENT:
                return isinstance(value, str)
        return False

    def range_size(self, node: Node, env: dict) -> int:
        return self.size(node, env)

    def cost(self, node: Node, env: dict) -> int:
        kind = node.kind
        if kind == "lit":
            return 0
        if kind == "ident":
            return 1
        if kind == "select":
            return _add(self.cost(node.target, env), 1)
        if kind == "has":  # environment/base.go: PresenceTestHasCost(false)
            return self.cost(node.target.target, env)
        if kind == "list":
            return _add(10, *(self.cost(a, env) for a in node.args))
        if kind == "map":
            return _add(30, *(self.cost(a, env) for a in node.args))
        if kind == "index":
            return _add(1, *(self.cost(a, env) for a in node.args))
        if kind == "comp":
            return self.comprehension(node, env)
        return self.call(node, env)

    def call(self, node: Node, env: dict) -> int:
        args, name = node.args, node.value
        if node.target is not None and node.target.kind == "ident" and node.target.value not in env:
            return _add(1, *(self.cost(a, env) for a in args))  # a namespaced function: sets.contains(...)
        target = self.cost(node.target, env) if node.target is not None else 0
        arg_costs = [self.cost(a, env) for a in args]
        total = _add(target, *arg_costs)
        subject = node.target if node.target is not None else (args[0] if args else None)
        if name in ("_&&_", "_||_"):
            return total
        if name == "_?_:_":
            return _add(arg_costs[0], max(arg_costs[1], arg_costs[2]))
        if name in ("_==_", "_!=_") or name in ("_<_", "_<=_", "_>_", "_>=_") and self.is_string(args, env):
            smallest = min(self.size(args[0], env), self.size(args[1], env))
            return _add(_factor(smallest, 0.1), total)
        if name == "_+_" and self.is_string(args, env):  # AddString: traverse the result
            return _add(_factor(_add(self.size(args[0], env), self.size(args[1], env)), 0.1), total)
        if name == "@in":
            return _add(self.size(args[1], env), total)
        if name == "matches" and subject is not None:
            regex = args[-1]
            text = _factor(_add(self.size(subject, env), 1), 0.1)
            return _add(_mul(text, _factor(self.size(regex, env), 0.25)), total)
        if name == "contains" and node.target is not None and args:
            return _add(_mul(_factor(self.size(node.target, env), 0.1), _factor(self.size(args[0], env), 0.1)), total)
        if name in ("startsWith", "endsWith") and args:
            return _add(_factor(self.size(args[0], env), 0.1), total)
        if name in _TRAVERSE and subject is not None:
            return _add(_factor(self.size(subject, env), 0.1), total)
        return _add(1, total)

    def comprehension(self, node: Node, env: dict) -> int:
        """The macro's expansion (cel-go parser/macro.go) costed as checker/cost.go costs a comprehension."""
        base = {"all": 1, "exists": 1, "exists_one": 2, "map": 11, "filter": 11}[node.value]
        overhead = {"all": 3, "exists": 4, "exists_one": 2, "map": 12, "filter": 13}[node.value]
        schema, value = self.resolve(node.target, env)
        item = None
        if isinstance(schema, dict):
            item = schema.get("items") if schema.get("type") == "array" else {"type": "string", "maxLength": 0}
        total = _add(self.cost(node.target, env), base)
        if self.actual and isinstance(value, (list, dict)):
            for element in (value if isinstance(value, list) else list(value)):
                step = _add(overhead, *(self.cost(a, dict(env, **{node.var: (item, element)})) for a in node.args))
                total = _add(total, step)
            return total
        step = _add(overhead, *(self.cost(a, dict(env, **{node.var: (item, ABSENT)})) for a in node.args))
        return _add(total, _mul(self.range_size(node.target, env), step))


def estimate(rule: str, schema: dict) -> int | None:
    """The rule's estimated maximum cost with self typed by schema; None when our parser cannot read it."""
    try:
        tree = parse(rule)
    except (SyntaxError, IndexError):
        return None
    env = {"self": (schema, ABSENT), "oldSelf": (schema, ABSENT)}
    return _Cost(False).cost(tree, env)


def actual(rule: str, schema: dict, value: Any, old: Any = ABSENT) -> int | None:
    """An upper bound of the rule's cost over these values (runtimecost.go, without early exits)."""
    try:
        tree = parse(rule)
    except (SyntaxError, IndexError):
        return None
    return _Cost(True).cost(tree, {"self": (schema, value), "oldSelf": (schema, old)})


def actual_for(expression: str, variables: dict) -> int | None:
    """actual() for an expression over untyped variables (a ValidatingAdmissionPolicy's)."""
    try:
        tree = parse(expression)
    except (SyntaxError, IndexError):
        return None
    return _Cost(True).cost(tree, {name: (None, value) for name, value in variables.items()})


def budget_message(cost_name: str, cost: int, limit: int) -> str:
    """getCostErrorMessage (apiextensions validation.go)."""
    factor = cost / limit
    shown = "more than 100x" if factor > 100 else f"{factor:f}x" if factor < 1.5 else f"{factor:.1f}x"
    return (f"{cost_name} exceeds budget by factor of {shown} (try simplifying the rule, or adding maxItems, "
            "maxProperties, and maxLength where arrays, maps, and strings are declared)")


def child_cardinality(parent: int | None, schema: dict) -> int | None:
    """cel_validation.go childContext: a list's items or a map's values multiply by its bound (None: unbounded)."""
    if parent is None:
        return None
    bound = schema.get("maxItems") if schema.get("type") == "array" else schema.get("maxProperties")
    return None if bound is None else _mul(parent, max(bound, 0))


def rule_cost(rule: str, schema: dict, cardinality: int | None) -> int | None:
    """getExpressionCost: the estimate times the schema node's cardinality (or its worst case)."""
    found = estimate(rule, schema)
    if found is None:
        return None
    return _mul(found, cardinality if cardinality is not None else max_cardinality(schema))
