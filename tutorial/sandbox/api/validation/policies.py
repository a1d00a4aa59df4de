"""ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1).

After an object passes its own validation (and on DELETE and CONNECT requests), every binding whose
policy matches the request (policymatch.py) runs the policy for each of its params: matchConditions,
then every validation, then auditAnnotations, with the variables `object`, `oldObject`, `request`,
`params`, `namespaceObject` and `variables` (lazily evaluated `spec.variables`). As upstream
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/dispatcher.go, validator.go):
- a failed validation with action Deny refuses the request, the first one named in
  `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: <message>` (code from its reason);
  Warn adds `Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': <message>` as a
  Warning header; Audit publishes the `validation.policy.admission.k8s.io/validation_failure` audit
  annotation (the sandbox has no audit log: audit annotations go to the server log, logger
  tutorial.sandbox.audit);
- an expression error, a matchCondition error or a binding that cannot be configured (params not
  found with parameterNotFoundAction Deny) denies under failurePolicy Fail and is skipped under Ignore.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from tutorial.sandbox.storage.objects import GR, StoreError

from tutorial.sandbox.storage.store import Store
from tutorial.sandbox.api.validation import celcost
from tutorial.sandbox.api.validation.celengine import CelError, CelUnsupported, evaluate
from tutorial.sandbox.api.validation.policymatch import ConfigError, collect_params, resources_match

GROUP = "admissionregistration.k8s.io"
POLICIES: GR = (GROUP, "validatingadmissionpolicies")
BINDINGS: GR = (GROUP, "validatingadmissionpolicybindings")
_CODES = {"Invalid": 422, "Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413, "Conflict": 409}
NAMESPACES: GR = ("", "namespaces")
AUDIT = logging.getLogger("tutorial.sandbox.audit")
FAILURE_KEY = "validation.policy.admission.k8s.io/validation_failure"
OUT_OF_BUDGET = "validation failed due to running out of cost budget, no further validation rules will be run"


class PolicyDenied(StoreError):
    """A Deny decision: the message and code the API server answers with."""

    def __init__(self, resource: str, name: str, message: str, reason: str):
        self.code, self.reason = _CODES.get(reason, 422), reason or "Invalid"
        self.denial, self.name = message, name
        text = f'{resource} "{name}" is forbidden: {message}'
        # like admission.NewForbidden: the resource (plural) as kind, one cause holding the message
        self.status_details = {"kind": resource.split(".")[0], "causes": [{"message": message}]}
        super().__init__(text)


class _Variables(dict):
    """`variables.<name>`, each evaluated on first use (an error surfaces where it is used)."""

    def __init__(self, policy: dict, base: dict):
        super().__init__()
        for var in (policy.get("spec") or {}).get("variables") or []:
            try:
                self[var["name"]] = evaluate(var["expression"], dict(base, variables=dict(self)))
            except CelError:
                continue  # an expression using it fails with "no such key"


def request_of(gr: GR, obj: dict | None, old: dict | None, operation: str, sub: str = "",
               options: dict | None = None, name: str = "", namespace: str = "") -> dict:
    """The `request` variable (admission.k8s.io AdmissionRequest fields a policy reads)."""
    subject = obj if obj is not None and operation != "CONNECT" else old or {}
    api_version = str(subject.get("apiVersion", "v1"))
    group, version = api_version.rsplit("/", 1) if "/" in api_version else ("", api_version)
    meta = subject.get("metadata") or {}
    kind = {"group": group, "version": version, "kind": subject.get("kind", "")}
    resource = {"group": gr[0], "version": version, "resource": gr[1]}
    return {"operation": operation, "name": name or meta.get("name", ""),
            "namespace": namespace or meta.get("namespace", ""), "kind": kind, "resource": resource,
            "subResource": sub, "requestKind": kind, "requestResource": resource, "requestSubResource": sub,
            "userInfo": {"username": "sandbox-user", "groups": ["system:masters", "system:authenticated"]},
            "options": options, "dryRun": False}


def _conditions(policy: dict, base: dict) -> str | None:
    """None when every matchCondition holds; "" when one is false (no match); else the error text."""
    errors = []
    for cond in (policy.get("spec") or {}).get("matchConditions") or []:
        expression = cond.get("expression", "true")
        try:
            if evaluate(expression, base) is False:
                return ""
        except CelUnsupported:
            continue
        except CelError as e:
            errors.append(f"expression '{expression}' resulted in error: {e}")
    if not errors:
        return None
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"  # utilerrors.NewAggregate


def _message(check: dict, base: dict) -> str:
    if check.get("messageExpression"):
        try:
            text = evaluate(check["messageExpression"], base)
            if isinstance(text, str) and text.strip() and "\n" not in text.strip() and len(text.strip()) <= 5120:
                return text.strip()
        except CelError:
            pass
    return (check.get("message") or "").strip() or f"failed expression: {check.get('expression', '').strip()}"


def decisions(policy: dict, base: dict, notes: list | None) -> list[tuple[int, str, str]]:
    """(validation index, message, reason) for every failing validation; expressions our engine cannot
    run are skipped with a note (a Warning header) instead of deciding either way."""
    spec = policy.get("spec") or {}
    fail = spec.get("failurePolicy", "Fail") != "Ignore"
    found, budget = [], celcost.RUNTIME_BUDGET
    for n, check in enumerate(spec.get("validations") or []):
        expression = check.get("expression", "")
        cost = celcost.actual_for(expression, base) or 0
        if celcost.PER_CALL_LIMIT >= cost > budget:  # activation.go: the RuntimeCELCostBudget is spent
            return found + ([(n, OUT_OF_BUDGET, "Invalid")] if fail else [])
        budget -= min(cost, celcost.PER_CALL_LIMIT)
        try:
            if cost > celcost.PER_CALL_LIMIT:  # cel-go interrupts the evaluation at the per-call limit
                raise CelError("operation cancelled: actual cost limit exceeded")
            ok = evaluate(expression, base)
        except CelUnsupported as e:
            if notes is not None:
                notes.append(f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' expression was not checked: "
                             f"{e} (not simulated by the sandbox's CEL engine)")
            continue
        except CelError as e:
            if fail:
                found.append((n, f"expression '{expression}' resulted in error: {e}", "Invalid"))
            continue
        if ok is not True:
            found.append((n, _message(check, base), check.get("reason") or "Invalid"))
    return found


def _audit_annotations(policy: dict, base: dict) -> tuple[dict[str, str], list[str]]:
    """Published values by key, and errors (unsupported result types, failed expressions)."""
    published, errors = {}, []
    for item in (policy.get("spec") or {}).get("auditAnnotations") or []:
        expression = item.get("valueExpression", "")
        try:
            value = evaluate(expression, base)
        except CelUnsupported:
            continue
        except CelError as e:
            errors.append(f"expression '{expression}' resulted in error: {e}")
            continue
        if isinstance(value, str):
            if value.strip():
                published[item.get("key", "")] = value.strip()[:10240]
        elif value is not None:
            errors.append(f"valueExpression '{expression}' resulted in unsupported return type: "
                          f"{_cel_type(value)}. Return type must be either string or null.")
    return published, errors


def _cel_type(value: Any) -> str:
    return {bool: "bool", int: "int", float: "double", list: "list", dict: "map"}.get(type(value), "dyn")


def _audit(key: str, value: str) -> None:
    AUDIT.info("audit annotation %s=%s", key, value)


def _failure_annotation(binding: dict, index: int, message: str) -> str:
    spec = binding.get("spec") or {}
    return json.dumps([{"message": message, "policy": spec.get("policyName", ""),
                        "binding": binding["metadata"]["name"], "expressionIndex": index,
                        "validationActions": spec.get("validationActions") or []}], separators=(",", ":"))


def _run_binding(store: Store, policy: dict, binding: dict, base: dict, notes: list | None) -> list[tuple]:
    """The decisions (index, message, reason, actions) of one binding over all its params."""
    spec = binding.get("spec") or {}
    actions = spec.get("validationActions") or []
    fail = (policy.get("spec") or {}).get("failurePolicy", "Fail") != "Ignore"
    try:
        params = collect_params(store, policy, binding, base["request"]["namespace"])
    except ConfigError as e:
        return [(-1, f"failed to configure binding: {e}", "Invalid", ["Deny"])] if fail else []
    found = []
    for param in params:
        scope = dict(base, params=param)
        held = _conditions(policy, scope)
        if held == "":
            continue
        if held is not None:
            found.extend([(-1, held, "Invalid", ["Deny"])] if fail else [])
            continue
        scope["variables"] = _Variables(policy, scope)
        found.extend((n, message, reason, actions) for n, message, reason in decisions(policy, scope, notes))
        published, errors = _audit_annotations(policy, scope)
        for key, value in published.items():
            _audit(f"{policy['metadata']['name']}/{key}", value)
        found.extend((-1, e, "Invalid", ["Deny"]) for e in errors if fail)
    return found


def check(store: Store, gr: GR, obj: dict | None, old: dict | None, resource_label: str, warnings: list | None,
          operation: str | None = None, sub: str = "", options: dict | None = None, name: str = "",
          namespace: str = "") -> None:
    """Run every bound policy over a request; raises PolicyDenied on a Deny decision.

    operation defaults to CREATE/UPDATE from old; DELETE passes obj None, CONNECT passes the options."""
    bindings, _ = store.list(BINDINGS)
    if not bindings:
        return
    operation = operation or ("UPDATE" if old is not None else "CREATE")
    req = request_of(gr, obj, old, operation, sub, options, name, namespace)
    ns_obj = store.get(NAMESPACES, None, req["namespace"]) if req["namespace"] else None
    target = options if operation == "CONNECT" else obj
    base = {"object": target, "oldObject": old if operation != "CONNECT" else None, "request": req,
            "params": None, "namespaceObject": ns_obj}
    subject = obj if obj is not None and operation != "CONNECT" else old
    denied = []
    for binding in bindings:
        spec = binding.get("spec") or {}
        policy = store.get(POLICIES, None, spec.get("policyName", ""))
        if policy is None or not resources_match((policy.get("spec") or {}).get("matchConstraints"), req, subject,
                                                 ns_obj):
            continue
        if not resources_match(spec.get("matchResources"), req, subject, ns_obj):
            continue
        names = f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' with binding '{binding['metadata']['name']}'"
        for index, message, reason, actions in _run_binding(store, policy, binding, base, warnings):
            if "Deny" in actions:
                denied.append((f"{names} denied request: {message}", reason))
            if "Warn" in actions and warnings is not None:
                warnings.append(f"Validation failed for {names}: {message}")
            if "Audit" in actions:
                _audit(FAILURE_KEY, _failure_annotation(binding, index, message))
    if denied:
        raise PolicyDenied(resource_label, req["name"], denied[0][0], denied[0][1])
