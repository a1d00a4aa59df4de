"""The registry of check kinds: their fields, defaults and default titles.

The engine implements one checker per kind in CHECK_KINDS; the lint and the JSON Schema validate
check entries against it. Field names are snake_case; the check's own `kind` key selects the
check kind, so the Kubernetes kind of an object is `object_kind` (or `route_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from tutorial.lessons.spec import ARGV, BOOLEAN, INTEGER, NUMBER, SLUG, STRING, Field, ListOf, Ref

DEFAULT_CHECK_TIMEOUT = 60.0

# Keys every check may carry, whatever its kind.
COMMON_FIELDS: dict[str, Field] = {
    "kind": Field(STRING, True, doc="which check (see the kinds)"),
    "id": Field(SLUG, doc="unique in the step; explanations refer to it"),
    "title": Field(STRING, doc="what the learner reads"),
    "timeout": Field(NUMBER, default=DEFAULT_CHECK_TIMEOUT, doc="seconds to wait"),
}


@dataclass(frozen=True)
class CheckKind:
    name: str
    fields: dict[str, Field]
    passes_when: str
    title: str  # str.format template over the params
    one_of: tuple[tuple[str, ...], ...] = ()

    def defaults(self) -> dict[str, Any]:
        return {k: f.default for k, f in self.fields.items() if f.default is not None}


def _kinds(*kinds: CheckKind) -> dict[str, CheckKind]:
    return {k.name: k for k in kinds}


_NS = Field(STRING, True)

CHECK_KINDS: dict[str, CheckKind] = _kinds(
    CheckKind("namespace_exists", {"name": Field(STRING, True)},
              "the namespace exists and is not terminating", "Namespace {name} exists"),
    CheckKind("crd_established", {"names": Field(ListOf(STRING, min_items=1), True)},
              "every CRD exists with Established=True", "The CRDs are established"),
    CheckKind("deployment_available",
              {"namespace": _NS, "name": Field(STRING), "selector": Field(STRING),
               "count": Field(INTEGER, default=1)},
              "the Deployment(s) are Available with all replicas ready",
              "Deployments in {namespace} are available", one_of=(("name", "selector"),)),
    CheckKind("pods_ready",
              {"namespace": _NS, "selector": Field(STRING), "count": Field(INTEGER, default=1)},
              "at least `count` matching pods are Ready", "Pods in {namespace} are ready"),
    CheckKind("resource_exists",
              {"api_version": Field(STRING, True), "object_kind": Field(STRING, True),
               "name": Field(STRING, True), "namespace": Field(STRING)},
              "the object exists", "{object_kind} {name} exists"),
    CheckKind("condition",
              {"api_version": Field(STRING, True), "object_kind": Field(STRING, True),
               "name": Field(STRING, True), "namespace": Field(STRING),
               "type": Field(STRING, True), "status": Field(STRING, default="True"),
               "reason": Field(STRING)},
              "status.conditions has that type with that status (and reason)",
              "{object_kind} {name} is {type}"),
    CheckKind("gateway_programmed",
              {"name": Field(STRING, True), "namespace": _NS,
               "address": Field(BOOLEAN, default=True)},
              "the Gateway is Accepted and Programmed (and has an address)",
              "Gateway {name} is programmed"),
    CheckKind("listener_attached_routes",
              {"gateway": Field(STRING, True), "namespace": _NS, "listener": Field(STRING),
               "count": Field(INTEGER, default=1)},
              "the listener is Accepted and attachedRoutes >= count",
              "Routes are attached to Gateway {gateway}"),
    CheckKind("route_accepted",
              {"name": Field(STRING, True), "namespace": _NS,
               "route_kind": Field(STRING, default="HTTPRoute"),
               "parent": Field(Ref("parent"), True)},
              "the route is Accepted with ResolvedRefs for that parent",
              "{route_kind} {name} is accepted"),
    CheckKind("route_backend_ports",
              {"name": Field(STRING, True), "namespace": _NS,
               "route_kind": Field(STRING, default="HTTPRoute")},
              "every Service backendRef of the route names a port the Service exposes",
              "{route_kind} {name} sends to Service ports"),
    CheckKind("http_get",
              {"url": Field(STRING), "through_gateway": Field(Ref("through_gateway")),
               "path": Field(STRING, default="/"), "status": Field(INTEGER, default=200),
               "contains": Field(STRING)},
              "the HTTP answer has that status (and contains the text)",
              "GET {path} answers {status}", one_of=(("url", "through_gateway"),)),
    CheckKind("command_succeeds", {"run": Field(ARGV, True)},
              "the command exits 0", "The command succeeds"),
)


def default_title(kind: str, params: Mapping[str, Any]) -> str:
    """The title a check gets when the lesson gives none."""
    spec = CHECK_KINDS[kind]
    values = {**{k: "" for k in spec.fields}, **spec.defaults(), **params}
    try:
        return " ".join(spec.title.format(**values).split())
    except (KeyError, IndexError, ValueError):
        return kind.replace("_", " ")
