"""Admission hooks run by the API server on create/update (never on status-only writes).

Defaulters fill fields in place; validators return (field path, message) causes that turn into
a 422 Invalid. CRD `default:` values from openAPIV3Schema are applied generically, which is how
Gateway API objects get their "Waiting for controller" status on creation.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from tutorial.sandbox.storage.objects import GR, Invalid, StoreError, copy_json

from tutorial.sandbox.storage.store import Store
from tutorial.sandbox.api.validation import crdcompile, crdschema, policies, policystatus
from tutorial.sandbox.api.validation.errors import invalid_message

Defaulter = Callable[[dict], None]
Validator = Callable[[dict, "dict | None"], list[tuple[str, str]]]
CRDS: GR = ("apiextensions.k8s.io", "customresourcedefinitions")


class Admission:
    """A set of defaulters and validators keyed by (group, plural)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._defaulters: dict[GR, list[Defaulter]] = {}
        self._validators: dict[GR, list[Validator]] = {}

    def register_defaulter(self, gr: GR, fn: Defaulter) -> None:
        with self._lock:
            self._defaulters.setdefault(tuple(gr), []).append(fn)

    def register_validator(self, gr: GR, fn: Validator) -> None:
        with self._lock:
            self._validators.setdefault(tuple(gr), []).append(fn)

    def admit(self, gr: GR, obj: dict, old: dict | None, store: Store | None = None,
              crd: bool = False, field_validation: str = "", warnings: list | None = None,
              duplicates: list[str] | None = None) -> dict:
        """Prune, default, then validate obj (in place, also returned); raises store.Invalid, or
        StrictDecodingError for unknown fields when the client asked for fieldValidation=Strict."""
        gr = tuple(gr)
        if crd and store is not None:
            schema = crd_schema(store, gr, obj.get("apiVersion", ""))
            if schema:
                # like the real server for custom resources: duplicates first, then unknown fields
                found = list(duplicates or []) + [f'unknown field "{f}"' for f in prune(obj, schema)]
                if found and field_validation == "Strict":
                    raise StrictDecodingError(obj, found)
                if found and field_validation != "Ignore" and warnings is not None:
                    warnings.extend(found)
                apply_defaults(obj, schema)
                causes = crdschema.crd_causes(schema, obj, old, validate_schema(obj, schema), warnings)
                if causes:
                    raise Invalid(causes, _crd_message(gr, obj, causes), _name(obj))
        with self._lock:
            defaulters = list(self._defaulters.get(gr, []))
            validators = list(self._validators.get(gr, []))
        for fn in defaulters:
            fn(obj)
        causes = [c for fn in validators for c in (fn(obj, old) or [])]
        if causes:
            raise Invalid(causes, _message(obj, causes), _name(obj))
        if gr in (CRDS, policies.POLICIES):  # expressions that do not compile refuse the object itself
            causes = crdcompile.crd_causes(obj, old) if gr == CRDS else policystatus.spec_causes(obj, old)
            if causes:
                kind = "CustomResourceDefinition" if gr == CRDS else "ValidatingAdmissionPolicy"
                raise Invalid(causes, invalid_message(kind, gr[0], _name(obj), causes), _name(obj))
        if store is not None:  # ValidatingAdmissionPolicies run after the object's own validation
            label = f"{gr[1]}.{gr[0]}" if gr[0] else gr[1]
            policies.check(store, gr, obj, old, label, warnings)
        return obj


    def admit_request(self, gr: GR, store: Store, operation: str, old: dict | None = None, sub: str = "",
                      options: dict | None = None, name: str = "", namespace: str = "",
                      warnings: list | None = None) -> None:
        """DELETE (old: the object) and CONNECT (options: e.g. PodExecOptions) requests meet the
        ValidatingAdmissionPolicies too; raises PolicyDenied."""
        label = f"{gr[1]}.{gr[0]}" if gr[0] else gr[1]
        policies.check(store, tuple(gr), None, old, label, warnings, operation=operation, sub=sub, options=options,
                       name=name, namespace=namespace)

    def admit_status(self, gr: GR, obj: dict, old: dict | None, store: Store | None = None,
                     crd: bool = False) -> None:
        """A status write to a custom resource is checked against its schema and CEL rules too."""
        schema = crd_schema(store, tuple(gr), obj.get("apiVersion", "")) if (crd and store is not None) else None
        if schema:
            causes = crdschema.crd_causes(schema, obj, old, validate_schema(obj, schema))
            if causes:
                raise Invalid(causes, _crd_message(tuple(gr), obj, causes), _name(obj))


class StrictDecodingError(StoreError):
    """Unknown fields under fieldValidation=Strict: the words the real API server uses."""

    code, reason = 400, "BadRequest"

    def __init__(self, obj: dict, problems: list[str]):
        kind, version = obj.get("kind", "object"), str(obj.get("apiVersion", "")).split("/")[-1]
        fields = ", ".join(problems)
        super().__init__(f'{kind} in version "{version}" cannot be handled as a {kind}: '
                         f"strict decoding error: {fields}")


def prune(value: Any, schema: dict, path: str = "") -> list[str]:
    """Drop fields the structural schema does not declare (in place); returns their paths."""
    if schema.get("x-kubernetes-preserve-unknown-fields") or schema.get("x-kubernetes-embedded-resource"):
        return []
    unknown: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        extra = schema.get("additionalProperties")
        for key in list(value):
            sub = schema["properties"].get(key)
            if sub is None and not path and key in ("apiVersion", "kind", "metadata"):
                continue
            if sub is None and isinstance(extra, dict):
                unknown += prune(value[key], extra, f"{path}.{key}")
            elif sub is None and extra is not True:
                unknown.append(f"{path}.{key}".lstrip("."))
                del value[key]
            elif sub is not None and key != "metadata":
                unknown += prune(value[key], sub, f"{path}.{key}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key in value:
            unknown += prune(value[key], schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for n, item in enumerate(value):
            unknown += prune(item, schema["items"], f"{path}[{n}]")
    return unknown


def _name(obj: dict) -> str:
    name = (obj.get("metadata") or {}).get("name")
    return name if isinstance(name, str) else ""


def _crd_message(gr: GR, obj: dict, causes: list[tuple[str, str]]) -> str:
    return invalid_message(str(obj.get("kind", "object")), gr[0], _name(obj), causes)


def _message(obj: dict, causes: list[tuple[str, str]]) -> str:
    kind, name = obj.get("kind", "object"), (obj.get("metadata") or {}).get("name", "")
    details = ", ".join(f"{f}: {m}" for f, m in causes)
    return f'{kind} "{name}" is invalid: {details}'


DEFAULT = Admission()


def register_defaulter(gr: GR, fn: Defaulter) -> None:
    """Register fn on the process-wide admission chain every ApiServer uses by default."""
    DEFAULT.register_defaulter(gr, fn)


def register_validator(gr: GR, fn: Validator) -> None:
    """Register fn on the process-wide admission chain every ApiServer uses by default."""
    DEFAULT.register_validator(gr, fn)


def crd_schema(store: Store, gr: GR, api_version: str) -> dict | None:
    """The openAPIV3Schema of the CRD defining gr, for the object's version: the stored CRD's own
    (store.peek, no copy of a schema of some 100 KB per request), so callers only read it."""
    group, plural = gr
    crd = store.peek(CRDS, None, f"{plural}.{group}")
    if not crd:
        return None
    version = api_version.split("/")[-1]
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            return (v.get("schema") or {}).get("openAPIV3Schema")
    return None


def apply_defaults(value: Any, schema: dict) -> Any:
    """Fill absent properties that have a `default:` in schema, recursively (in place)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key not in value and "default" in sub:
                value[key] = copy_json(sub["default"])
        for key, sub in props.items():
            if key in value and key != "metadata":
                apply_defaults(value[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in value:
                if key not in props:
                    apply_defaults(value[key], extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(item, schema["items"])
    return value


def validate_schema(value: Any, schema: dict, path: str = "") -> list[tuple[str, str]]:
    """A small subset of structural-schema validation: required, enum, pattern, lengths, types."""
    causes: list[tuple[str, str]] = []
    here = path or "<root>"
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(f'"{v}"' for v in schema["enum"])
        causes.append((here, f'Unsupported value: "{value}": supported values: {allowed}'))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            causes.append((here, f'Invalid value: "{value}": {here} in body should match \'{schema["pattern"]}\''))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            causes.append((here, f"Too long: may not be more than {schema['maxLength']} bytes"))
        if "minLength" in schema and len(value) < schema["minLength"]:
            causes.append((here, f"Invalid value: \"{value}\": {here} in body should be at least "
                                 f"{schema['minLength']} chars long"))
    if isinstance(value, dict) and path != ".metadata":
        for req in schema.get("required") or []:
            if req not in value:
                causes.append((f"{path}.{req}".lstrip("."), "Required value"))
        for key, sub in (schema.get("properties") or {}).items():
            if key in value and key != "metadata":
                causes.extend(validate_schema(value[key], sub, f"{path}.{key}"))
    if isinstance(value, list):
        _bounds(causes, here, len(value), schema.get("minItems"), schema.get("maxItems"), "items")
        if isinstance(schema.get("items"), dict):
            for n, item in enumerate(value):
                causes.extend(validate_schema(item, schema["items"], f"{path}[{n}]"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            causes.append((here, f"Invalid value: {value}: {here.lstrip('.')} in body should be greater than "
                                 f"or equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            causes.append((here, f"Invalid value: {value}: {here.lstrip('.')} in body should be less than "
                                 f"or equal to {schema['maximum']}"))
    return [(f.lstrip("."), m) for f, m in causes]


def _bounds(causes: list, here: str, n: int, low, high, what: str) -> None:
    if low is not None and n < low:
        causes.append((here, f"Invalid value: {n}: {here.lstrip('.')} in body should have at least {low} {what}"))
    if high is not None and n > high:
        causes.append((here, f"Too many: {n}: must have at most {high} {what}"))
