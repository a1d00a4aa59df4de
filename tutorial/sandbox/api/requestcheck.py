"""Checks on the request itself, before any object logic: size, YAML aliasing, nesting, type, name, fields.

A real API server refuses a body over 3 MiB (413), a YAML document that expands aliases
excessively, a body whose kind or apiVersion is not the one the URL names, names that are not
DNS labels/subdomains, and field selectors on fields the resource does not index. The sandbox
refuses the same things with the same words (Kubernetes' apimachinery messages, ported as data).
"""

from __future__ import annotations

import re

import yaml

from tutorial.sandbox.api.apirequest import ApiError

MAX_BODY_BYTES = 3 * 1024 * 1024  # the kube-apiserver's MaxRequestBodyBytes
# Deeper JSON than this breaks the sandbox's own (recursive) copying; real servers allow 10000 levels.
MAX_DEPTH = 200


def too_large() -> ApiError:
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY_BYTES}")


def check_length(content_length: int) -> None:
    if content_length > MAX_BODY_BYTES:
        raise too_large()


# ---- YAML aliases and nesting ----------------------------------------------------------------

def _allowed_alias_ratio(decoded: int) -> float:
    """go-yaml's bound on the share of nodes decoded through aliases (0.99 small, 0.10 huge documents)."""
    low, high = 400_000, 4_000_000
    if decoded <= low:
        return 0.99
    if decoded >= high:
        return 0.10
    return 0.99 - 0.89 * (decoded - low) / (high - low)


def check_yaml_node(root: yaml.Node | None, kind: str, body: bytes) -> None:
    """Walk the composed YAML graph as the decoder would expand it; refuse excessive aliasing or depth.

    PyYAML shares aliased nodes, so the graph is small even for a "billion laughs" document; the
    expansion only happens when the object is copied or serialised. We count it here instead,
    stopping as soon as it is excessive, the way go-yaml (inside the real API server) does.
    """
    if root is None:
        return
    decoded = aliased = 0
    seen_anchor: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, via_alias = stack.pop()
        decoded += 1
        aliased += via_alias
        if aliased > 100 and decoded > 1000 and aliased / decoded > _allowed_alias_ratio(decoded):
            raise unrecognized(kind, "yaml: document contains excessive aliasing", body)
        if depth > MAX_DEPTH:
            raise too_deep(kind, body)
        alias = via_alias or id(node) in seen_anchor
        seen_anchor.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, depth + 1, alias) for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((n, depth + 1, alias) for n in node.value)


def check_depth(data: object, kind: str, body: bytes) -> None:
    """Refuse JSON nested deeper than the sandbox can hold (iterative: never recurses itself)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise too_deep(kind, body)
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def too_deep(kind: str, body: bytes) -> ApiError:
    return unrecognized(kind, f"exceeded max depth (the sandbox holds at most {MAX_DEPTH} levels of "
                              "nesting; a real API server allows 10000)", body)


def _summary(body: bytes, limit: int = 30) -> str:
    """The start of the body as the real server quotes it in decode errors."""
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body.decode("utf-8", errors="replace")
        return text[:limit] + " ..." if len(text) > limit else text
    return body[:limit].hex() + (" ..." if len(body) > limit else "")


def unrecognized(kind: str, error: str, body: bytes) -> ApiError:
    return ApiError(400, "BadRequest", f"the object provided is unrecognized (must be of type {kind}): "
                                       f"{error} ({_summary(body)})")


# ---- the object's type against the URL -------------------------------------------------------

def check_type(rt, version: str, obj: dict) -> None:
    """400/422 when the body names another kind or API version than the URL, as the real server answers.

    A built-in kind's missing kind/apiVersion is taken from the URL (the real decoder defaults them);
    a custom resource must name both (the unstructured decoder requires them).
    """
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, (str, type(None))) or not isinstance(api_version, (str, type(None))):
        raise ApiError(400, "BadRequest", "kind and apiVersion must be strings")
    if rt.crd:
        return _check_custom_type(rt, version, obj)
    expected = rt.api_version_for(version)
    if kind and kind != rt.kind:
        data_version = (api_version or expected).rsplit("/", 1)[-1]
        internal = rt.group.split(".")[0] or "core"  # the Go package of the server's internal type
        raise ApiError(400, "BadRequest", f'{kind} in version "{data_version}" cannot be handled as a {rt.kind}: '
                                          f"converting ({data_version}.{kind}) to ({internal}.{rt.kind}): "
                                          "unknown conversion")
    if api_version and api_version != expected and not _same_group(rt, api_version):
        raise _version_mismatch(api_version, expected)


def _check_custom_type(rt, version: str, obj: dict) -> None:
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if not kind:
        raise ApiError(400, "BadRequest", f"Object 'Kind' is missing in '{_compact(obj)}'")
    if not api_version:
        raise ApiError(400, "BadRequest", f"Object 'apiVersion' is missing in '{_compact(obj)}'")
    expected = rt.api_version_for(version)
    if api_version != expected and not _same_group(rt, api_version):
        raise _version_mismatch(api_version, expected)
    if kind != rt.kind:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = meta.get("name", "")
        cause = f'Invalid value: "{kind}": must be {rt.kind}'
        raise ApiError(422, "Invalid", f'{kind}.{rt.group} "{name}" is invalid: kind: {cause}',
                       {"name": name, "group": rt.group, "kind": kind,
                        "causes": [{"reason": "FieldValueInvalid", "message": cause, "field": "kind"}]})


def _version_mismatch(api_version: str, expected: str) -> ApiError:
    return ApiError(400, "BadRequest", f"the API version in the data ({api_version}) does not match the "
                                       f"expected API version ({expected})")


def _same_group(rt, api_version: str) -> bool:
    """Another served version of the same group is converted by the server, not refused."""
    group, _, version = api_version.rpartition("/")
    return group == rt.group and version in rt.served_versions


def _compact(obj: dict) -> str:
    import json
    return json.dumps(obj, separators=(",", ":"))[:200]


# ---- names -------------------------------------------------------------------------------------

_LABEL_1123 = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAME_RULES = {
    "dns1035": ("[a-z]([-a-z0-9]*[a-z0-9])?", 63,
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character", ("my-name", "abc-123")),
    "label": (_LABEL_1123, 63,
              "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
              "must start and end with an alphanumeric character", ("my-name", "123-abc")),
    "subdomain": (rf"{_LABEL_1123}(\.{_LABEL_1123})*", 253,
                  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                  "'.', and must start and end with an alphanumeric character", ("example.com",)),
}
# which rule the real API server applies to a resource's names (subdomain for the rest)
NAME_RULE_OF = {("", "services"): "dns1035", ("", "namespaces"): "label"}


def _regex_error(text: str, fmt: str, examples: tuple[str, ...]) -> str:
    """apimachinery's RegexError wording, double space included."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{text} (e.g. {shown}regex used for validation is '{fmt}')"


def name_problems(gr, name: str) -> list[str]:
    """What is wrong with a new object's name, in the real server's words (empty when fine)."""
    if gr[0] == "rbac.authorization.k8s.io":
        return [] if name not in (".", "..") and "/" not in name and "%" not in name else \
            [f"may not contain '/' or '%' and may not be '.' or '..'"]
    fmt, max_len, text, examples = _NAME_RULES[NAME_RULE_OF.get(tuple(gr), "subdomain")]
    problems = []
    if len(name) > max_len:
        problems.append(f"must be no more than {max_len} characters")
    if not re.fullmatch(fmt, name):
        problems.append(_regex_error(text, fmt, examples))
    return problems


# ---- field selectors ---------------------------------------------------------------------------

_COMMON_FIELDS = {"metadata.name", "metadata.namespace"}
# the field labels each resource's storage indexes (Kubernetes 1.32's field label conversion funcs)
FIELD_LABELS = {
    ("", "pods"): {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                   "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"},
    ("", "events"): {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    ("", "secrets"): {"type"},
    ("", "namespaces"): {"status.phase"},
    ("", "nodes"): {"spec.unschedulable"},
    ("", "services"): {"spec.clusterIP", "spec.type"},
    ("", "replicationcontrollers"): {"status.replicas"},
    ("apps", "replicasets"): {"status.replicas"},
    ("batch", "jobs"): {"status.successful"},
    ("certificates.k8s.io", "certificatesigningrequests"): {"spec.signerName"},
}


def selectable_fields(store, rt) -> set[str]:
    """A custom resource's spec.selectableFields (as field labels); empty for built-in kinds."""
    if not rt.crd:
        return set()
    crd = store.peek(("apiextensions.k8s.io", "customresourcedefinitions"), None, f"{rt.plural}.{rt.group}") or {}
    versions = (crd.get("spec") or {}).get("versions") or []
    return {str(f.get("jsonPath", "")).lstrip(".") for v in versions if isinstance(v, dict)
            for f in v.get("selectableFields") or [] if isinstance(f, dict)}


def check_field_selector(gr, selector: str, extra: set[str] = frozenset()) -> None:
    """400 BadRequest "field label not supported: X" for a field the resource cannot be selected by."""
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        label = re.split(r"!=|==|=", part, maxsplit=1)[0].strip()
        allowed = _COMMON_FIELDS | FIELD_LABELS.get(tuple(gr), set()) | extra
        if label and label not in allowed:
            raise ApiError(400, "BadRequest", f"field label not supported: {label}")
