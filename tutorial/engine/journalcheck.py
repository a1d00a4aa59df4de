"""Validate the journal ConfigMap before anything trusts it, and say what reset may never touch.

The journal lives in the cluster, where anyone with edit rights on kube-system can change it.
So reset reads it as outside input: every key and type is checked (a bad one refuses the whole
journal, naming the key), and a deletion needs three agreeing witnesses — the entry's recorded
uid, the live object's uid, and the ownership annotation the tutorial put on what it created —
and never touches the cluster's own namespaces or a namespace/CRD from the journal's baseline
(what existed before the tutorial's first step).
"""

from __future__ import annotations

import json

FORMAT = "1"
STEP_PREFIX = "step."
BASELINE_KEY = "baseline"
OWNER_ANNOTATION = "gateway-tutorial.io/created-by"
PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})
MAX_JSON_DEPTH = 8  # entries are flat lists of flat objects; deeper JSON is not ours


class JournalInvalid(ValueError):
    """The journal fails validation; `key` is the ConfigMap data key that is wrong."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"key {key!r}: {problem}")
        self.key, self.problem = key, problem


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:  # strings holding brackets over-count, which only makes the check stricter
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _json(key: str, text) -> object:
    if not isinstance(text, str):
        raise JournalInvalid(key, "is not a string")
    if _depth(text) > MAX_JSON_DEPTH:
        raise JournalInvalid(key, f"is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise JournalInvalid(key, f"is not valid JSON ({exc})") from None


def _need(key: str, where: str, value, typ, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, typ) or isinstance(value, bool) and typ is not bool:
        names = {str: "a string", int: "an integer", list: "a list", dict: "an object"}
        raise JournalInvalid(key, f"{where} must be {names.get(typ, typ.__name__)}, got {type(value).__name__}")
    return value


def _ref(key: str, where: str, item, *extra: str) -> dict:
    _need(key, where, item, dict)
    for field in ("api_version", "kind", "name", *extra):
        _need(key, f"{where}.{field}", item.get(field), str)
    _need(key, f"{where}.namespace", item.get("namespace"), str, optional=True)
    return item


def check_entry(key: str, text) -> dict:
    """One `step.*` value as a dict of checked types; JournalInvalid names the key otherwise."""
    doc = _need(key, "the entry", _json(key, text), dict)
    target = _need(key, "target", doc.get("target"), str)
    if STEP_PREFIX + target.replace("/", ".") != key:
        raise JournalInvalid(key, f"target {target!r} does not match the key")
    _need(key, "seq", doc.get("seq", 0), int)
    _need(key, "recorded", doc.get("recorded", ""), str)
    for i, item in enumerate(_need(key, "created", doc.get("created", []), list)):
        _ref(key, f"created[{i}]", item)
        _need(key, f"created[{i}].uid", item.get("uid"), str, optional=True)  # missing: refused per object
        _need(key, f"created[{i}].release", item.get("release"), str, optional=True)
    for i, item in enumerate(_need(key, "releases", doc.get("releases", []), list)):
        _need(key, f"releases[{i}]", item, dict)
        for field in ("namespace", "name"):
            _need(key, f"releases[{i}].{field}", item.get(field), str)
    for i, item in enumerate(_need(key, "kept", doc.get("kept", []), list)):
        _ref(key, f"kept[{i}]", item)
        _need(key, f"kept[{i}].why", item.get("why", ""), str)
    return doc


def check_baseline(text) -> dict:
    """The baseline: {"namespaces": {name: uid}, "crds": {name: uid}, "recorded": str}."""
    doc = _need(BASELINE_KEY, "the baseline", _json(BASELINE_KEY, text), dict)
    for field in ("namespaces", "crds"):
        for name, uid in _need(BASELINE_KEY, field, doc.get(field, {}), dict).items():
            _need(BASELINE_KEY, f"{field}.{name}", uid, str)
    return doc


def check_data(data) -> tuple[dict[str, dict], dict | None]:
    """(key -> checked entry, baseline or None) of a journal ConfigMap's data; JournalInvalid if any
    key is unknown, the format version is not FORMAT, or a value has the wrong shape."""
    if not isinstance(data, dict):
        raise JournalInvalid("data", "is not an object")
    if data.get("format") != FORMAT:
        raise JournalInvalid("format", f"is {data.get('format')!r}; this tutorial reads format {FORMAT!r} "
                             "only (written by another version?)")
    entries, baseline = {}, None
    for key, value in data.items():
        if key == "format":
            continue
        if key == BASELINE_KEY:
            baseline = check_baseline(value)
        elif isinstance(key, str) and key.startswith(STEP_PREFIX):
            entries[key] = check_entry(key, value)
        else:
            raise JournalInvalid(str(key), "is not a key the tutorial writes")
    return entries, baseline


def refusal(ref, recorded_uid: str | None, live_uid: str | None, live_annotations: dict | None,
            baseline: dict | None) -> str | None:
    """Why reset must not delete ref (None: it may). live_uid None means the object is gone."""
    namespace = ref.namespace if ref.kind != "Namespace" else ref.name
    if namespace in PROTECTED_NAMESPACES:
        return f"it is in {namespace}, which belongs to the cluster; reset never deletes there"
    if not recorded_uid:
        return "its journal entry has no uid, so nothing proves the tutorial created it"
    if live_uid is None:
        return None  # gone already: nothing to delete, nothing to refuse
    if live_uid != recorded_uid:
        return None  # reported as "replaced" by the caller
    if OWNER_ANNOTATION not in (live_annotations or {}):
        return f"it lacks the tutorial's {OWNER_ANNOTATION} annotation, so the tutorial did not create it"
    group = {"Namespace": "namespaces", "CustomResourceDefinition": "crds"}.get(ref.kind)
    if group and baseline is not None and (baseline.get(group) or {}).get(ref.name) == live_uid:
        return "it existed before the tutorial's first step (the journal's baseline)"
    return None


def baseline_from(objects) -> dict:
    """The baseline of a snapshot: every namespace and CRD with its uid."""
    out = {"namespaces": {}, "crds": {}}
    for seen in objects:
        group = {"Namespace": "namespaces", "CustomResourceDefinition": "crds"}.get(seen.ref.kind)
        if group:
            out[group][seen.ref.name] = seen.uid
    return out
