"""One bounded YAML loader for every YAML that comes from outside the program.

Lesson files, the manifests a learner applies and the sandbox's request bodies are all written by
someone else. PyYAML shares an aliased node instead of copying it, so a 600-byte file of nested
aliases ("billion laughs") is small in memory until something walks or serialises it — then it
expands to gigabytes. This loader counts, while composing, how many nodes (and characters) the
aliases of a document would expand to, and caps that, the nesting depth and the size of one
string. Going over a cap is a `YamlLimitError` (a MarkedYAMLError, so callers that already report
PyYAML errors with their line report these too), e.g. "too many alias expansions".
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Limits:
    """Caps for one document: alias-expanded nodes and characters, nesting depth, one string."""

    alias_nodes: int = 10_000
    alias_chars: int = 4 * 1024 * 1024
    depth: int = 100
    scalar_chars: int = 4 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class YamlLimitError(yaml.composer.ComposerError):
    """A document went over one of the loader's caps; problem_mark is where."""


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses documents whose aliases, depth or strings go over `limits`."""

    limits: Limits = DEFAULT_LIMITS

    def __init__(self, stream):
        super().__init__(stream)
        self._weight: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, chars) once composed
        self._expanded = [0, 0]
        self._depth = 0

    def compose_document(self):
        node = super().compose_document()
        self._weight, self._expanded = {}, [0, 0]  # each document of a stream has its own budget
        return node

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            return self._alias()
        event = self.peek_event()
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > self.limits.scalar_chars:
            self._refuse(event.start_mark, f"a string of {len(event.value)} characters (at most "
                         f"{self.limits.scalar_chars}); shorten it")
        nested = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if nested:
            self._depth += 1
            if self._depth > self.limits.depth:
                self._refuse(event.start_mark, f"nested more than {self.limits.depth} levels "
                             "deep; flatten it")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= nested
        self._weight[id(node)] = self._weigh(node)
        return node

    def _weigh(self, node) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value)
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [n for pair in node.value for n in pair]
        nodes, chars = 1, 0
        for child in children:
            n, c = self._weight.get(id(child), (1, 0))
            nodes, chars = nodes + n, chars + c
        return nodes, chars

    def _alias(self):
        mark = self.peek_event().start_mark
        node = super().compose_node(None, None)
        weight = self._weight.get(id(node))
        if weight is None:  # the anchor's node is still being composed: the alias is inside it
            self._refuse(mark, "a YAML alias refers to the node that contains it; remove the "
                         "recursion")
        self._expanded[0] += weight[0]
        self._expanded[1] += weight[1]
        if self._expanded[0] > self.limits.alias_nodes or \
                self._expanded[1] > self.limits.alias_chars:
            self._refuse(mark, f"too many alias expansions (the aliases so far expand to "
                         f"{self._expanded[0]} values and {self._expanded[1]} characters; at "
                         f"most {self.limits.alias_nodes} and {self.limits.alias_chars}); write "
                         "the values out instead of repeating an anchor")
        return node

    @staticmethod
    def _refuse(mark, problem: str):
        raise YamlLimitError(None, None, problem, mark)


class JsonishLoader(BoundedLoader):
    """BoundedLoader that keeps timestamps as strings, as Kubernetes' YAML-to-JSON step does."""


JsonishLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def safe_load(stream, loader=BoundedLoader):
    """yaml.safe_load with the caps; raises yaml.YAMLError (YamlLimitError over a cap)."""
    return yaml.load(stream, Loader=loader)  # noqa: S506 - a SafeLoader subclass


def safe_load_all(stream, loader=BoundedLoader) -> list:
    """Every document of a stream, with the caps applied to each; a list, not a generator."""
    return list(yaml.load_all(stream, Loader=loader))  # noqa: S506 - a SafeLoader subclass


def _depth_over(docs: list, limit: int) -> bool:
    """True when any document nests deeper than `limit` (iterative: no recursion to overflow)."""
    stack = [(doc, 1) for doc in docs]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def fast_load_all(text: str, limits: Limits = DEFAULT_LIMITS) -> list:
    """safe_load_all with the same caps, through libyaml when that is provably safe.

    A text without '&' has no anchors, so no aliases; one no longer than the string cap has no
    string over it; nesting is measured after parsing. Anything else (or no libyaml) takes the
    bounded pure-Python loader, which names the line of the problem. For hot paths that parse
    the same kind of text many times (kubeconfigs of 100 contexts, the manifests of a fleet).
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None or "&" in text or len(text) > limits.scalar_chars:
        return safe_load_all(text)
    try:
        docs = list(yaml.load_all(text, Loader=fast))  # noqa: S506 - libyaml's SafeLoader
    except RecursionError:
        return safe_load_all(text)
    if _depth_over(docs, limits.depth):
        return safe_load_all(text)  # refuses it, with the line
    return docs
