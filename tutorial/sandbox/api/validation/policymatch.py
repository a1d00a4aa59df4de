"""Which requests a ValidatingAdmissionPolicy and its bindings match, and the params a binding names.

Matching follows k8s.io/apiserver/pkg/admission/plugin/policy/matching: resourceRules (with
`pods/exec`, `pods/*`, `*/*` subresource forms), excludeResourceRules, scope, namespace and object
label selectors. Params follow policy/generic/policy_dispatcher.go CollectParams: paramRef by name or
selector, in paramRef.namespace or the request's namespace, and `parameterNotFoundAction: Deny`
turning an empty result into a configuration error.
"""

from __future__ import annotations

from tutorial.sandbox.storage.objects import GR
from tutorial.sandbox.storage.store import Store

CRDS: GR = ("apiextensions.k8s.io", "customresourcedefinitions")
# the built-in kinds a policy most often takes as params: kind -> (plural, namespaced)
BUILTIN_PARAM_KINDS = {("", "ConfigMap"): ("configmaps", True), ("", "Secret"): ("secrets", True),
                       ("", "Namespace"): ("namespaces", False)}


class ConfigError(Exception):
    """A binding that cannot be evaluated (its params missing...): failurePolicy decides what follows."""


def _listed(values: list | None, value: str) -> bool:
    return bool(values) and ("*" in values or value in values)


def _resource_listed(resources: list, resource: str, sub: str) -> bool:
    if not sub:
        return "*" in resources or resource in resources or "*/*" in resources
    return any(r in (f"{resource}/{sub}", f"{resource}/*", f"*/{sub}", "*/*") for r in resources)


def rule_matches(rule: dict, req: dict) -> bool:
    return (_listed(rule.get("apiGroups"), req["kind"]["group"]) and
            _listed(rule.get("apiVersions"), req["kind"]["version"]) and
            _listed(rule.get("operations"), req["operation"]) and
            _resource_listed(rule.get("resources") or [], req["resource"]["resource"], req.get("subResource", "")) and
            rule.get("scope", "*") in ("*", "Namespaced" if req["namespace"] else "Cluster"))


def labels_match(selector: dict | None, labels: dict) -> bool:
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) or \
                (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def resources_match(match: dict | None, req: dict, subject: dict | None, ns_obj: dict | None) -> bool:
    """subject: the object (the old one on DELETE) whose labels the objectSelector reads."""
    if match is None:
        return True
    rules = match.get("resourceRules") or []
    if rules and not any(rule_matches(r, req) for r in rules):  # a binding without rules defers to its policy
        return False
    if any(rule_matches(r, req) for r in match.get("excludeResourceRules") or []):
        return False
    labels = ((subject or {}).get("metadata") or {}).get("labels") or {}
    ns_labels = ((ns_obj or {}).get("metadata") or {}).get("labels") or {}
    return labels_match(match.get("objectSelector"), labels) and \
        (not req["namespace"] or labels_match(match.get("namespaceSelector"), ns_labels))


def param_resource(store: Store, param_kind: dict) -> tuple[GR, bool] | None:
    """(group/plural, namespaced) of a paramKind: a CRD's names, else a known built-in kind."""
    api_version = str(param_kind.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    kind = param_kind.get("kind", "")
    if (group, kind) in BUILTIN_PARAM_KINDS:
        plural, namespaced = BUILTIN_PARAM_KINDS[(group, kind)]
        return (group, plural), namespaced
    crds, _ = store.list(CRDS)
    for crd in crds:
        spec = crd.get("spec") or {}
        if spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind:
            return (group, spec["names"]["plural"]), spec.get("scope") == "Namespaced"
    return None


def collect_params(store: Store, policy: dict, binding: dict, namespace: str) -> list[dict | None]:
    """The params each validation runs with: [None] without paramKind or paramRef; ConfigError as upstream."""
    param_kind = (policy.get("spec") or {}).get("paramKind")
    ref = (binding.get("spec") or {}).get("paramRef")
    if not param_kind or not ref:
        return [None]
    found = param_resource(store, param_kind)
    if found is None:
        raise ConfigError(f"paramKind kind `&ParamKind{{APIVersion:{param_kind.get('apiVersion', '')},"
                          f"Kind:{param_kind.get('kind', '')},}}` not known")
    gr, namespaced = found
    where = None
    if namespaced:
        where = ref.get("namespace") or namespace
        if not where:
            raise ConfigError("cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
    elif ref.get("namespace"):
        raise ConfigError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
    if ref.get("name") and ref.get("selector") is not None:
        raise ConfigError("paramRef.name and paramRef.selector are mutually exclusive")
    if ref.get("name"):
        one = store.get(gr, where, ref["name"])
        params = [one] if one is not None else []
    elif ref.get("selector") is not None:
        items, _ = store.list(gr, where)
        params = [i for i in items if labels_match(ref["selector"], (i.get("metadata") or {}).get("labels") or {})]
    else:
        raise ConfigError("one of name or selector must be provided")
    if not params and ref.get("parameterNotFoundAction") == "Deny":
        raise ConfigError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return params
