"""A ValidatingAdmissionPolicy's expressions checked as a v1.32 cluster checks them.

On create/update the API server refuses expressions that do not compile (`object` is untyped there,
so these are syntax errors and undeclared variables): `spec.validations[0].expression: Invalid value: "...": compilation
failed: ERROR: <input>:1:22: Syntax error: ...` (kubernetes pkg/apis/admissionregistration/validation,
validateValidationExpression). Afterwards the policy status controller type-checks the expressions
against each kind the policy matches and writes `status.typeChecking.expressionWarnings`
(k8s.io/apiserver/pkg/admission/plugin/policy/validating/typechecking.go): here, field references on
`object`/`oldObject` the kind's schema lacks (`apps/v1, Kind=Deployment: compilation failed: ERROR:
<input>:1:13: undefined field 'replicaz'...`); other type errors are not simulated.
"""

from __future__ import annotations

from collections.abc import Callable

from tutorial.sandbox.storage.objects import GR, copy_json
from tutorial.sandbox.storage.store import Store
from tutorial.sandbox.api.validation import builtin
from tutorial.sandbox.api.validation.crdcompile import display, field_issues, reference_issues, syntax_issues
from tutorial.sandbox.api.validation.policymatch import CRDS
from tutorial.sandbox.api.validation.policies import POLICIES

Cause = tuple[str, str]
# the variables a policy expression may use (plugin/cel composition environment)
ROOTS = {"object", "oldObject", "request", "params", "namespaceObject", "variables", "authorizer"}


def _expressions(spec: dict) -> list[tuple[str, str]]:
    """(field path, expression) of every CEL expression in a policy spec."""
    found = []
    for n, check in enumerate(spec.get("validations") or []):
        found.append((f"spec.validations[{n}].expression", check.get("expression")))
        if check.get("messageExpression"):
            found.append((f"spec.validations[{n}].messageExpression", check["messageExpression"]))
    for part, key in (("matchConditions", "expression"), ("variables", "expression"),
                      ("auditAnnotations", "valueExpression")):
        for n, item in enumerate(spec.get(part) or []):
            found.append((f"spec.{part}[{n}].{key}", item.get(key)))
    return [(f, e) for f, e in found if isinstance(e, str)]


def spec_causes(policy: dict, old: dict | None) -> list[Cause]:
    """Invalid causes for expressions that do not parse (those the stored policy had are kept)."""
    known = {e for _, e in _expressions((old or {}).get("spec") or {})}
    causes = []
    for where, expression in _expressions(policy.get("spec") or {}):
        issues = None if expression in known else syntax_issues(expression) or "\n".join(
            display(expression, col, message) for col, message in reference_issues(expression, ROOTS))
        if issues:
            value = '"' + expression.replace("\\", "\\\\").replace('"', '\\"') + '"'
            causes.append((where, f"Invalid value: {value}: compilation failed: {issues}"))
    return causes


def _kind_schemas(store: Store, spec: dict) -> list[tuple[str, dict]]:
    """(GVK text, schema) of each kind the policy's resourceRules name explicitly (no wildcards)."""
    found = []
    for rule in ((spec.get("matchConstraints") or {}).get("resourceRules") or []):
        for group in rule.get("apiGroups") or []:
            for version in rule.get("apiVersions") or []:
                for resource in rule.get("resources") or []:
                    if "*" not in (group, version) and "*" not in resource and "/" not in resource:
                        found.extend(_schema_for(store, group, version, resource))
    return found


def _schema_for(store: Store, group: str, version: str, resource: str) -> list[tuple[str, dict]]:
    crd = store.get(CRDS, None, f"{resource}.{group}") if group else None
    if crd:
        kind = ((crd.get("spec") or {}).get("names") or {}).get("kind", "")
        for v in (crd.get("spec") or {}).get("versions") or []:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if v.get("name") == version and isinstance(schema, dict):
                return [(f"{group}/{version}, Kind={kind}", schema)]
        return []
    for name, schema in builtin.definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind") or []:
            kind = gvk.get("kind", "")
            plural = kind.lower() + ("es" if kind.lower().endswith(("s", "x")) else "s")
            if kind.lower().endswith("y"):
                plural = kind.lower()[:-1] + "ies"
            if (gvk.get("group", ""), gvk.get("version")) == (group, version) and resource in (plural, kind.lower()):
                return [(f"{group}/{version}, Kind={kind}", {"$ref": "#/definitions/" + name})]
    return []


def expression_warnings(store: Store, policy: dict) -> list[dict]:
    """status.typeChecking.expressionWarnings for a policy."""
    spec = policy.get("spec") or {}
    kinds = _kind_schemas(store, spec)
    warnings = []
    for n, check in enumerate(spec.get("validations") or []):
        for key in ("expression", "messageExpression"):
            expression = check.get(key)
            if not isinstance(expression, str) or not expression or syntax_issues(expression):
                continue
            parts = []
            for gvk, schema in kinds:
                issues = field_issues(expression, schema, True, names=("object", "oldObject"), full_meta=True)
                if issues:
                    parts.append(f"{gvk}: compilation failed: " + "\n".join(issues) + "\n")
            if parts:
                warnings.append({"fieldRef": f"spec.validations[{n}].{key}", "warning": "\n".join(parts)})
    return warnings


def attach(store: Store) -> Callable[[], None]:
    """Keep each policy's status (observedGeneration, typeChecking) current, as the status controller does."""

    def on_event(type_: str, gr: GR, obj: dict) -> None:
        if tuple(gr) != POLICIES or type_ == "DELETED":
            return
        generation = obj["metadata"].get("generation", 1)
        if (obj.get("status") or {}).get("observedGeneration") == generation:
            return
        checked = {"expressionWarnings": w} if (w := expression_warnings(store, obj)) else {}
        updated = copy_json(obj)
        updated["status"] = {"observedGeneration": generation, "typeChecking": checked}
        updated["metadata"].pop("resourceVersion", None)
        try:
            store.update(POLICIES, updated, subresource="status")
        except Exception:  # noqa: BLE001 - deleted or changed meanwhile; its own event follows
            pass

    return store.subscribe(on_event)
