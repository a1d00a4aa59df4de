"""The hook the REST write path calls for built-in kinds: decode the body as the real server would.

`check_builtin` runs on create, update, patch and apply (not on /scale): it refuses wrongly
typed values, applies fieldValidation to unknown and duplicate fields (Strict: 400 with
kubectl's exact text; Warn, the server default: Warning headers; Ignore: silence), and drops
unknown fields. Fields already unknown in the stored object are not the writer's doing and are
dropped without a word.
"""

from __future__ import annotations

import time

from tutorial.sandbox.api.validation import builtin, fields
from tutorial.sandbox.storage.objects import StoreError
from tutorial.sandbox.api.validation.errors import DecodeError

STATS = {"writes": 0, "seconds": 0.0}  # bench/bench_validation.py reads these


class ApplyError(DecodeError):
    """Server-side apply of fields the schema lacks: the structured-merge-diff words, answered as a 500
    with no reason (the real server passes this plain error through ErrorToAPIStatus)."""

    code, reason = 500, ""

    def __init__(self, message: str):
        StoreError.__init__(self, message)


_JSON_PATCH_KEYS = {"op", "path", "value", "from"}


def body_duplicates(raw: bytes | None) -> list[str]:
    """`duplicate field "..."` for every key given twice in a JSON request body (patches, custom resources)."""
    body = fields.parse_pairs(raw) if raw else None
    return fields.duplicates(body) if body is not None else []


def patch_problems(raw: bytes | None) -> list[str]:
    """What the server says about a patch body itself: its duplicate keys, or for a JSON patch the
    unknown and duplicate keys of its operations (duplicates inside values are lost, as upstream)."""
    body = fields.parse_pairs(raw) if raw else None
    if not isinstance(body, list) or isinstance(body, fields.Pairs):  # Pairs: an object, not a JSON patch
        return body_duplicates(raw)
    found = []
    for n, op in enumerate(body):
        seen: set = set()
        for key, _ in op if isinstance(op, fields.Pairs) else []:
            if key in seen:
                found.append(f'json patch duplicate field "[{n}].{key}"')
            elif key not in _JSON_PATCH_KEYS:
                found.append(f'json patch unknown field "[{n}].{key}"')
            seen.add(key)
    return found


def check_builtin(group: str, version: str, kind: str, obj: dict, raw: bytes | None, mode: str,
                  warnings: list | None, old: dict | None = None, apply: bool = False,
                  patch: bytes | None = None) -> None:
    """Validate obj (raw: the request body when it is the object itself; patch: a patch body) in place;
    raises DecodeError."""
    definition = builtin.definition_for(group, version, kind)
    if definition is None:
        return
    started = time.perf_counter()
    body = fields.parse_pairs(raw) if raw else None
    found = fields.check(definition, body if isinstance(body, fields.Pairs) else fields.as_pairs(obj))
    found.problems = _reported(definition, found, old, patch)
    STATS["writes"] += 1
    STATS["seconds"] += time.perf_counter() - started
    if found.type_error:
        raise DecodeError(kind, version, found.type_error)
    if apply and found.apply_paths:
        raise ApplyError(_apply_message(group, version, kind, obj, found.apply_paths))
    if found.problems and mode == "Strict":
        raise DecodeError(kind, version, "strict decoding error: " + ", ".join(found.problems))
    if found.problems and mode != "Ignore" and warnings is not None:
        warnings.extend(found.problems)
    fields.drop(obj, found.unknown)


def _apply_message(group: str, version: str, kind: str, obj: dict, paths: list[str]) -> str:
    meta = obj.get("metadata") or {}
    where = f'{meta.get("namespace") or ""}/{meta.get("name") or ""}; {group + "/" if group else ""}{version}, Kind={kind}'
    errors = [f"{p}: field not declared in schema" for p in paths]
    detail = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join("  " + e for e in errors)
    return f"failed to create typed patch object ({where}): {detail}"


def _reported(definition: str, found: fields.Findings, old: dict | None, patch: bytes | None) -> list[str]:
    """The problems to report: minus unknown fields the stored object already had; for a patch, the
    patch body's own problems first, then the patched object's unknown fields sorted (as upstream)."""
    tagged = _tagged(found)
    if old is not None and found.unknown:
        stale = {tuple(p) for p in fields.check(definition, fields.as_pairs(old)).unknown}
        tagged = [(p, path) for p, path in tagged if not path or tuple(path) not in stale]
    if patch is None:
        return [p for p, _ in tagged]
    return patch_problems(patch) + sorted(p for p, _ in tagged)


def _tagged(found: fields.Findings) -> list[tuple[str, list]]:
    """Problems paired with their path (duplicates keep an empty path: never stale)."""
    unknown = iter(found.unknown)
    return [(p, next(unknown) if p.startswith("unknown") else []) for p in found.problems]
