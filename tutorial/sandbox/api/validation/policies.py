"""ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1).

After an object passes its own validation, every binding whose policy matches the request
(matchConstraints and the binding's matchResources: resourceRules, excludeResourceRules,
namespace/object selectors by matchLabels; matchConditions) runs the policy's validations
with the same CEL engine: variables `object`, `oldObject`, `request`, `params` (null: paramKind
is not simulated), `namespaceObject`, `variables`. A failure with validationAction Deny refuses
the write in the API server's words (`customresourcedefinitions.apiextensions.k8s.io "x" is
forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: <message>`, code from
the validation's reason, 422 for Invalid); Warn adds a Warning header; Audit is not simulated.
DELETE and CONNECT requests are not checked by the sandbox.
"""

from __future__ import annotations

from typing import Any

from tutorial.sandbox.storage.objects import GR, StoreError

from tutorial.sandbox.storage.store import Store
from tutorial.sandbox.api.validation.celengine import CelError, CelUnsupported, evaluate

GROUP = "admissionregistration.k8s.io"
POLICIES: GR = (GROUP, "validatingadmissionpolicies")
BINDINGS: GR = (GROUP, "validatingadmissionpolicybindings")
_CODES = {"Invalid": 422, "Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413, "Conflict": 409}
NAMESPACES: GR = ("", "namespaces")


class PolicyDenied(StoreError):
    """A Deny decision: the message and code the API server answers with."""

    def __init__(self, resource: str, name: str, message: str, reason: str):
        self.code, self.reason = _CODES.get(reason, 422), reason or "Invalid"
        self.denial, self.name = message, name
        text = f'{resource} "{name}" is forbidden: {message}'
        # like admission.NewForbidden: the resource (plural) as kind, one cause holding the message
        self.status_details = {"kind": resource.split(".")[0], "causes": [{"message": message}]}
        super().__init__(text)


def _listed(values: list | None, value: str) -> bool:
    return bool(values) and ("*" in values or value in values)


def _rule_matches(rule: dict, req: dict) -> bool:
    resources = rule.get("resources") or []
    return (_listed(rule.get("apiGroups"), req["kind"]["group"]) and
            _listed(rule.get("apiVersions"), req["kind"]["version"]) and
            _listed(rule.get("operations"), req["operation"]) and
            (_listed(resources, req["resource"]["resource"]) or "*/*" in resources) and
            rule.get("scope", "*") in ("*", "Namespaced" if req["namespace"] else "Cluster"))


def _labels_match(selector: dict | None, labels: dict) -> bool:
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


def _resources_match(match: dict | None, req: dict, obj: dict, ns_obj: dict | None) -> bool:
    if match is None:
        return True
    rules = match.get("resourceRules") or []
    if rules and not any(_rule_matches(r, req) for r in rules):  # a binding without rules defers to its policy
        return False
    if any(_rule_matches(r, req) for r in match.get("excludeResourceRules") or []):
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    ns_labels = ((ns_obj or {}).get("metadata") or {}).get("labels") or {}
    return _labels_match(match.get("objectSelector"), labels) and \
        (not req["namespace"] or _labels_match(match.get("namespaceSelector"), ns_labels))


def _request(gr: GR, obj: dict, old: dict | None) -> dict:
    group, version = (str(obj.get("apiVersion", "")).rsplit("/", 1) + [""])[:2] \
        if "/" in str(obj.get("apiVersion", "")) else ("", str(obj.get("apiVersion", "")))
    meta = obj.get("metadata") or {}
    return {"operation": "UPDATE" if old is not None else "CREATE", "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""), "kind": {"group": group, "version": version,
                                                             "kind": obj.get("kind", "")},
            "resource": {"group": gr[0], "version": version, "resource": gr[1]},
            "userInfo": {"username": "sandbox-user", "groups": ["system:masters", "system:authenticated"]},
            "dryRun": False}


def _variables(policy: dict, base: dict) -> dict:
    values: dict[str, Any] = {}
    for var in (policy.get("spec") or {}).get("variables") or []:
        try:
            values[var["name"]] = evaluate(var["expression"], dict(base, variables=values))
        except CelError:
            values[var["name"]] = None
    return values


def _failure(policy: dict, base: dict, notes: list | None) -> tuple[str, str] | None:
    """The first failing validation's (message, reason), or None when all pass; expressions our engine
    cannot run are skipped with a note (a Warning header) instead of deciding either way."""
    spec = policy.get("spec") or {}
    for check in spec.get("validations") or []:
        expression = check.get("expression", "")
        try:
            ok = evaluate(expression, base)
        except CelUnsupported as e:
            if notes is not None:
                notes.append(f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' expression was not checked: "
                             f"{e} (not simulated by the sandbox's CEL engine)")
            continue
        except CelError as e:
            if spec.get("failurePolicy", "Fail") == "Ignore":
                continue
            return f"expression '{expression}' resulted in error: {e}", "Invalid"
        if ok is not True:
            message = check.get("message") or f"failed expression: {expression.strip()}"
            if check.get("messageExpression"):
                try:
                    message = str(evaluate(check["messageExpression"], base)) or message
                except CelError:
                    pass
            return message, check.get("reason") or "Invalid"
    return None


def _conditions_hold(policy: dict, base: dict) -> bool:
    for cond in (policy.get("spec") or {}).get("matchConditions") or []:
        try:
            if evaluate(cond.get("expression", "true"), base) is not True:
                return False
        except CelError:
            return False
    return True


def check(store: Store, gr: GR, obj: dict, old: dict | None, resource_label: str,
          warnings: list | None) -> None:
    """Run every bound policy over a create or update; raises PolicyDenied on a Deny decision."""
    bindings, _ = store.list(BINDINGS)
    if not bindings:
        return
    req = _request(gr, obj, old)
    ns_obj = store.get(NAMESPACES, None, req["namespace"]) if req["namespace"] else None
    base = {"object": obj, "oldObject": old, "request": req, "params": None, "namespaceObject": ns_obj}
    for binding in bindings:
        spec = binding.get("spec") or {}
        policy = store.get(POLICIES, None, spec.get("policyName", ""))
        if policy is None or not _resources_match((policy.get("spec") or {}).get("matchConstraints"), req, obj,
                                                  ns_obj):
            continue
        if not _resources_match(spec.get("matchResources"), req, obj, ns_obj) or not _conditions_hold(policy, base):
            continue
        failed = _failure(policy, dict(base, variables=_variables(policy, base)), warnings)
        if failed is None:
            continue
        names = f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding '{binding['metadata']['name']}'"
        actions = spec.get("validationActions") or []
        if "Warn" in actions and warnings is not None:
            warnings.append(f"Validation failed for {names}: {failed[0]}")
        if "Deny" in actions:
            raise PolicyDenied(resource_label, req["name"], f"{names} denied request: {failed[0]}", failed[1])
