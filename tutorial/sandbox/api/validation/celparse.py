"""A small CEL parser: the expression tree the cost estimator (celcost.py) walks.

The engine (celengine.py) compiles and runs expressions but does not expose its tree, and the API
server's cost limits are computed over that tree (cel-go checker/cost.go). This parser covers the
CEL grammar (literals, identifiers, selection, indexing, calls, operators, lists, maps) and the
macros cel-go expands into comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`, `has`).
Expressions it cannot read raise SyntaxError; callers then skip the cost check.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>[rRbB]{0,2}(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<num>0x[0-9a-fA-F]+u?|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+u?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|\.\?|[-+*/%!<>?:.,()\[\]{}])
)""", re.X)
MACROS = {"all", "exists", "exists_one", "map", "filter"}
# qualified function names (`sets.contains(...)`): the first part is no variable
NAMESPACES = {"sets", "math", "strings", "base64", "optional", "lists", "format", "ip"}
_BINARY = [("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"), ("+", "-"), ("*", "/", "%")]


@dataclass
class Node:
    """kind: lit, ident, select, has, index, call, list, map, comp."""

    kind: str
    value: Any = None  # literal value, identifier / field / function name, or macro name
    args: list = field(default_factory=list)  # operands; for call: the arguments
    target: Node | None = None  # select operand, member call receiver, comprehension range
    var: str = ""  # comprehension variable
    pos: int = -1  # where an identifier starts in the text


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SyntaxError(f"unexpected character at {pos}")
        kind = match.lastgroup
        out.append((kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return out + [("end", "", len(text))]


class _Parser:
    def __init__(self, text: str):
        self.toks, self.i = _tokens(text), 0

    def peek(self, value: str | None = None) -> bool:
        kind, text, _ = self.toks[self.i]
        return (kind in ("op", "id") and text == value) if value is not None else False

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SyntaxError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.peek("?"):
            self.take("?")
            yes = self.binary(0)
            self.take(":")
            return Node("call", "_?_:_", [cond, yes, self.expr()])
        return cond

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while any(self.peek(op) for op in _BINARY[level]):
            op = self.take()[1]
            left = Node("call", f"_{op}_" if op != "in" else "@in", [left, self.binary(level + 1)])
        return left

    def unary(self) -> Node:
        if self.peek("!") or self.peek("-"):
            op = self.take()[1]
            operand = self.unary()
            if op == "-" and operand.kind == "lit" and type(operand.value) in (int, float):
                return Node("lit", -operand.value)  # cel-go folds a negative number into one literal
            return Node("call", f"{op}_", [operand])
        return self.member(self.primary())

    def arguments(self, close: str) -> list[Node]:
        items = []
        while not self.peek(close):
            items.append(self.expr())
            if not self.peek(close):
                self.take(",")
        self.take(close)
        return items

    def member(self, node: Node) -> Node:
        while True:
            if self.peek(".") or self.peek(".?"):
                self.take()
                name = self.take()[1]
                if self.peek("("):
                    self.take("(")
                    node = self.call(name, node, self.arguments(")"))
                else:
                    node = Node("select", name, target=node)
            elif self.peek("["):
                self.take("[")
                index = self.expr()
                self.take("]")
                node = Node("index", None, [node, index])
            else:
                return node

    def call(self, name: str, target: Node | None, args: list[Node]) -> Node:
        if target is not None and name in MACROS and args and args[0].kind == "ident" and len(args) in (2, 3):
            return Node("comp", name, args[1:], target=target, var=args[0].value)
        if target is None and name == "has" and len(args) == 1 and args[0].kind == "select":
            return Node("has", None, target=args[0])
        return Node("call", name, args, target=target)

    def primary(self) -> Node:
        kind, text, start = self.take()
        if kind == "str":
            return Node("lit", _string(text))
        if kind == "num":
            return Node("lit", _number(text))
        if kind == "id":
            if text in ("true", "false", "null"):
                return Node("lit", {"true": True, "false": False, "null": None}[text])
            if self.peek("("):
                self.take("(")
                return self.call(text, None, self.arguments(")"))
            return Node("ident", text, pos=start)
        if text == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if text == "[":
            return Node("list", None, self.arguments("]"))
        if text == "{":
            entries = []
            while not self.peek("}"):
                key = self.expr()
                self.take(":")
                entries += [key, self.expr()]
                if not self.peek("}"):
                    self.take(",")
            self.take("}")
            return Node("map", None, entries)
        if text == ".":
            return self.primary()
        raise SyntaxError(f"unexpected {text!r}")


def _string(text: str) -> str:
    body = text.lstrip("rRbB")
    quote = 3 if body[:3] in ("'''", '"""') else 1
    return body[quote:-quote]


def _number(text: str) -> int | float:
    text = text.rstrip("u")
    if text.startswith("0x"):
        return int(text, 16)
    return float(text) if any(c in text for c in ".eE") else int(text)


def parse(text: str) -> Node:
    """The expression's tree; SyntaxError when it cannot be read. The tree of a text is built once and
    shared (the same rules are checked on every write of a custom resource, in every cluster): read it,
    never change it."""
    return _parse_once(text) if isinstance(text, str) else _parse(text)


@functools.lru_cache(maxsize=4096)
def _parse_once(text: str) -> Node:
    return _parse(text)


def _parse(text: str) -> Node:
    parser = _Parser(text)
    node = parser.expr()
    parser.take("")
    return node


def free_identifiers(node: Node, bound: frozenset = frozenset()) -> list[Node]:
    """Identifiers that name a variable (not a comprehension variable, not a function's namespace)."""
    if node.kind == "ident":
        return [] if node.value in bound else [node]
    found = []
    if node.kind == "comp":
        found += free_identifiers(node.target, bound)
        for arg in node.args:
            found += free_identifiers(arg, bound | {node.var})
        return found
    namespace = node.kind == "call" and node.target is not None and node.target.kind == "ident" and \
        node.target.value in NAMESPACES and node.target.value not in bound
    if node.target is not None and not namespace:
        found += free_identifiers(node.target, bound)
    for arg in node.args:
        found += free_identifiers(arg, bound)
    return found
