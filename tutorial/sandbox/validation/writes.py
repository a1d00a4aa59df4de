"""The hook the REST write path calls for built-in kinds: decode the body as the real server would.

`check_builtin` runs on create, update, patch and apply (not on /scale): it refuses wrongly
typed values, applies fieldValidation to unknown and duplicate fields (Strict: 400 with
kubectl's exact text; Warn, the server default: Warning headers; Ignore: silence), and drops
unknown fields. Fields already unknown in the stored object are not the writer's doing and are
dropped without a word.
"""

from __future__ import annotations

import time

from tutorial.sandbox.validation import builtin, fields
from tutorial.sandbox.store import StoreError
from tutorial.sandbox.validation.errors import DecodeError

STATS = {"writes": 0, "seconds": 0.0}  # bench/bench_validation.py reads these


class ApplyError(DecodeError):
    """Server-side apply of fields the schema lacks: the structured-merge-diff words, answered as a 500
    with no reason (the real server passes this plain error through ErrorToAPIStatus)."""

    code, reason = 500, ""

    def __init__(self, message: str):
        StoreError.__init__(self, message)


def check_builtin(group: str, version: str, kind: str, obj: dict, raw: bytes | None, mode: str,
                  warnings: list | None, old: dict | None = None, apply: bool = False) -> None:
    """Validate obj (raw: the request body when it is the object itself) in place; raises DecodeError."""
    definition = builtin.definition_for(group, version, kind)
    if definition is None:
        return
    started = time.perf_counter()
    body = fields.parse_pairs(raw) if raw else None
    found = fields.check(definition, body if isinstance(body, fields.Pairs) else fields.as_pairs(obj))
    if old is not None and found.unknown:
        stale = {tuple(p) for p in fields.check(definition, fields.as_pairs(old)).unknown}
        found.problems = [p for p, path in _tagged(found) if tuple(path) not in stale]
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


def _tagged(found: fields.Findings) -> list[tuple[str, list]]:
    """Problems paired with their path (duplicates keep an empty path: never stale)."""
    unknown = iter(found.unknown)
    return [(p, next(unknown) if p.startswith("unknown") else []) for p in found.problems]
