"""Checks that need more than one field: ids, references, variables, assets, the lesson graph.

Works on the cleaned data from validate.py (every present field has the right type).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import yaml

from tutorial.lessons.safeyaml import safe_load_all
from tutorial.lessons.spec import VERIFY_FACTS
from tutorial.lessons.validate import suggest
from tutorial.lessons.variables import BUILTIN_VARIABLES, unknown_in, unknown_lenient
from tutorial.lessons.yamlsrc import LMap, YamlIssue

COMMAND_LISTS = ("commands", "solve", "cleanup")


def check_ids(checks: Iterable[LMap]) -> list[str]:
    """Each check's id: given, else its kind, numbered (`kind-2`) when the kind repeats."""
    checks = list(checks)
    taken = {c["id"] for c in checks if "id" in c}
    ids = []
    for c in checks:
        if "id" in c:
            ids.append(c["id"])
            continue
        kind, n = c.get("kind", "check"), 1
        candidate = kind
        while candidate in taken:
            n += 1
            candidate = f"{kind}-{n}"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _items(m: LMap, key: str) -> list:
    return list(m.get(key, []))


def _unique(items: Iterable[LMap], key: str, what: str, issues: list[YamlIssue]) -> None:
    first: dict = {}
    for item in items:
        if key not in item:
            continue
        value = item[key]
        if value in first:
            issues.append(YamlIssue(item.line_of(key), f"duplicate {what} {value!r} (first on "
                                    f"line {first[value]}); {what}s must be unique",
                                    f"{item.path}.{key}"))
        else:
            first[value] = item.line_of(key)


def check_lesson(doc: LMap, assets_dir: Path) -> list[YamlIssue]:
    """Every single-file semantic problem of one cleaned lesson."""
    issues: list[YamlIssue] = []
    variants = _items(doc, "variants")
    _unique(variants, "id", "variant id", issues)
    defaults = [v for v in variants if v.get("default")]
    for extra in defaults[1:]:
        issues.append(YamlIssue(extra.line_of("default"), "more than one default variant "
                                f"(first: {defaults[0].get('id')!r}); mark only one",
                                f"{extra.path}.default"))
    variables = doc.get("variables", LMap())
    for name in variables:
        if name in BUILTIN_VARIABLES:
            issues.append(YamlIssue(variables.line_of(name), "this name is built in; choose "
                                    "another", f"variables.{name}"))
    known = set(BUILTIN_VARIABLES) | set(variables)
    variant_ids = [v["id"] for v in variants if "id" in v]
    steps = _items(doc, "steps")
    _unique(steps, "id", "step id", issues)
    for step in steps:
        _check_step(step, known, variant_ids, assets_dir, issues)
    _check_visible(doc, "", issues)
    _check_instructor(doc, issues)
    return issues


ARGV_KEYS = ("run", "fix_command")  # what runs must show exactly as it is: no invisible character at all
TEXT_ALLOWED = "\n\t\u200d"  # line breaks, tabs and the emoji joiner are fine in prose and manifests


def _check_visible(value, path: str, issues: list[YamlIssue], line: int = 1, allow: str = TEXT_ALLOWED) -> None:
    """Refuse control, format (bidi), separator and odd-space characters: what is shown must be what runs."""
    from tutorial.engine.visible import escape_invisible, has_invisible

    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            at = value.line_of(key) if isinstance(value, LMap) else line
            if isinstance(key, str) and has_invisible(key):
                issues.append(YamlIssue(at, "this key holds an invisible character; type it plainly", sub))
            _check_visible(item, sub, issues, at, "" if key in ARGV_KEYS else allow)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            at = value.line_of(index) if hasattr(value, "line_of") else line
            _check_visible(item, f"{path}[{index}]", issues, at, allow)
    elif isinstance(value, str) and has_invisible(value, allow):
        issues.append(YamlIssue(line, f"holds an invisible or control character ({escape_invisible(value, allow)[:80]}"
                                "); a terminal would not show what runs, so remove it", path))
    return issues


def _check_instructor(doc: LMap, issues: list[YamlIssue]) -> None:
    """minutes in a sensible range; objectives and notes not blank."""
    from tutorial.lessons.spec import MINUTES

    minutes = doc.get("minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and not MINUTES[0] <= minutes <= MINUTES[1]:
        issues.append(YamlIssue(doc.line_of("minutes"), f"{minutes} is not a sensible expected time; give "
                                f"the minutes a learner needs, {MINUTES[0]} to {MINUTES[1]}", "minutes"))
    objectives = doc.get("objectives") or []
    for i, text in enumerate(objectives):
        if isinstance(text, str) and not text.strip():
            where = objectives.line_of(i) if hasattr(objectives, "line_of") else doc.line_of("objectives")
            issues.append(YamlIssue(where, "an objective is blank; write what the "
                                    "learner can do afterwards", f"objectives[{i}]"))
    notes = doc.get("instructor_notes")
    if isinstance(notes, str) and not notes.strip():
        issues.append(YamlIssue(doc.line_of("instructor_notes"), "blank; remove it or write the notes",
                                "instructor_notes"))


def _check_step(step: LMap, known: set, variant_ids: list, assets_dir: Path,
                issues: list[YamlIssue]) -> None:
    if "verify_when" in step and step["verify_when"] not in VERIFY_FACTS:
        issues.append(YamlIssue(step.line_of("verify_when"), f"unknown fact {step['verify_when']!r}"
                                f"{suggest(step['verify_when'], list(VERIFY_FACTS))}; expected one of: "
                                f"{', '.join(VERIFY_FACTS)}", f"{step.path}.verify_when"))
    if "variant" in step and step["variant"] not in variant_ids:
        valid = ", ".join(variant_ids) or "none (the lesson has no 'variants')"
        issues.append(YamlIssue(step.line_of("variant"), f"unknown variant "
                                f"{step['variant']!r}{suggest(step['variant'], variant_ids)}; "
                                f"defined variants: {valid}", f"{step.path}.variant"))
    manifests = _items(step, "manifests")
    _unique(manifests, "id", "manifest id", issues)
    for manifest in manifests:
        _check_manifest(manifest, assets_dir, issues)
    manifest_ids = [m["id"] for m in manifests if "id" in m]
    for key in COMMAND_LISTS:
        for command in _items(step, key):
            _check_command(command, manifest_ids, known, issues)
    checks = _items(step, "checks")
    _unique(checks, "id", "check id", issues)
    for check in checks:
        if "run" in check:
            _check_argv(check, "run", known, issues)
        _check_prose(check, [k for k in check if k not in ("run", "kind", "id")], known, issues)
    explanations = _items(step, "explanations")
    _unique(explanations, "id", "explanation id", issues)
    ids = check_ids(checks)
    for explanation in explanations:
        _check_explanation(explanation, ids, known, issues)
        _check_prose(explanation, ["title", "why", "fix"], known, issues)
    _check_prose(step, ["title", "text", "hints"], known, issues)
    if isinstance(step.get("break"), dict):
        _check_break(step, manifest_ids, known, issues)


def _check_break(step: LMap, manifest_ids: list, known: set, issues: list[YamlIssue]) -> None:
    """A challenge: its break commands, minutes and objectives as for a lesson; checks to pass."""
    brk = step["break"]
    for command in _items(brk, "commands"):
        _check_command(command, manifest_ids, known, issues)
    _check_instructor(brk, issues)
    _check_prose(brk, ["symptom"], known, issues)
    if not _items(step, "checks"):
        issues.append(YamlIssue(step.line_of("break"), "a challenge needs checks that pass when the "
                                "lab works again", f"{step.path}.checks"))


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check_prose(m: LMap, keys: list, known: set, issues: list[YamlIssue]) -> None:
    """Unknown {variables} in text the engine renders (text, hints, check fields)."""
    for key in keys:
        if key not in m:
            continue
        for text in _strings(m[key]):
            for message in unknown_lenient(text, known):
                issues.append(YamlIssue(m.line_of(key), message, f"{m.path}.{key}"))


def _check_argv(m: LMap, key: str, known: set, issues: list[YamlIssue]) -> None:
    for message in unknown_in(m[key], known):
        issues.append(YamlIssue(m.line_of(key), message, f"{m.path}.{key}"))


def _check_command(command: LMap, manifest_ids: list, known: set,
                   issues: list[YamlIssue]) -> None:
    if "run" in command:
        _check_argv(command, "run", known, issues)
    stdin = command.get("stdin")
    if stdin is not None and stdin not in manifest_ids:
        valid = ", ".join(manifest_ids) or "none (the step has no 'manifests')"
        issues.append(YamlIssue(command.line_of("stdin"), f"no manifest {stdin!r} in this step"
                                f"{suggest(stdin, manifest_ids)}; manifests here: {valid}",
                                f"{command.path}.stdin"))


def _check_explanation(explanation: LMap, check_ids_: list, known: set,
                       issues: list[YamlIssue]) -> None:
    if "fix_command" in explanation:
        _check_argv(explanation, "fix_command", known, issues)
    when = explanation.get("when")
    if when is not None and "check" in when and when["check"] not in check_ids_:
        valid = ", ".join(check_ids_) or "none"
        issues.append(YamlIssue(when.line_of("check"), f"no check {when['check']!r} in this step"
                                f"{suggest(when['check'], check_ids_)}; check ids here: {valid}",
                                f"{when.path}.check"))


def _check_manifest(manifest: LMap, assets_dir: Path, issues: list[YamlIssue]) -> None:
    if "file" in manifest:
        problem = _asset_problem(manifest["file"], assets_dir)
        if problem:
            issues.append(YamlIssue(manifest.line_of("file"), problem, f"{manifest.path}.file"))
    if "content" in manifest:
        try:
            safe_load_all(manifest["content"])
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1} of the content)" if mark else ""
            issues.append(YamlIssue(manifest.line_of("content"), f"the inline YAML does not "
                                    f"parse{where}: {getattr(exc, 'problem', exc)}; fix it",
                                    f"{manifest.path}.content"))


def _asset_problem(name: str, assets_dir: Path) -> str:
    """Why a manifest `file` is unusable, or "" if it is a readable file under assets."""
    rel = Path(name)
    if not name or rel.is_absolute() or ".." in rel.parts:
        return f"{name!r} must be a path inside the assets directory, like 'gateway-api/x.yaml'"
    try:
        if (assets_dir / rel).is_file():
            return ""
    except (OSError, ValueError):
        pass
    return f"file {name!r} not found under the assets directory {assets_dir}; add it or fix " \
           f"the path"


def check_set(docs: list[tuple[str, LMap]], unreadable: int = 0) -> list[tuple[str, YamlIssue]]:
    """Problems across lessons: duplicate ids and orders, dangling or circular `requires`.

    `unreadable` counts lesson files that did not parse: their ids are unknown, so a dangling
    `requires` may only be a consequence, and the message says so.
    """
    issues: list[tuple[str, YamlIssue]] = []
    for key, what in (("id", "lesson id"), ("order", "order")):
        first: dict = {}
        for file, doc in docs:
            if key not in doc:
                continue
            if doc[key] in first:
                other_file, other_line = first[doc[key]]
                issues.append((file, YamlIssue(doc.line_of(key), f"duplicate {what} "
                               f"{doc[key]!r}, also in {other_file}:{other_line}; each lesson "
                               f"needs its own", key)))
            else:
                first[doc[key]] = (file, doc.line_of(key))
    by_id = {doc["id"]: (file, doc) for file, doc in docs if "id" in doc}
    for file, doc in docs:
        issues.extend((file, i) for i in _check_requires(doc, by_id, unreadable))
    issues.extend(_cycles(by_id))
    return issues


def _check_requires(doc: LMap, by_id: dict, unreadable: int) -> list[YamlIssue]:
    out = []
    requires = doc.get("requires", [])
    for index, required in enumerate(requires):
        line, path = requires.line_of(index), f"requires[{index}]"
        if required == doc.get("id"):
            out.append(YamlIssue(line, "a lesson cannot require itself; remove it", path))
        elif required not in by_id:
            out.append(YamlIssue(line, f"no lesson {required!r}{suggest(required, by_id)}; "
                                 f"known lessons: {', '.join(sorted(by_id)) or 'none'}"
                                 + (f" ({unreadable} lesson file(s) could not be read; fix "
                                    f"them first)" if unreadable else ""), path))
        else:
            other = by_id[required][1]
            if "order" in doc and "order" in other and other["order"] > doc["order"]:
                out.append(YamlIssue(line, f"lesson {required!r} comes later (order "
                                     f"{other['order']} > {doc['order']}); a lesson can only "
                                     f"require earlier ones", path))
    return out


def _cycles(by_id: dict) -> list[tuple[str, YamlIssue]]:
    """One problem per `requires` cycle, reported on the lesson where the cycle closes."""
    out, state = [], {}  # state: 1 visiting, 2 done

    def visit(lesson_id: str, trail: list[str]) -> None:
        state[lesson_id] = 1
        file, doc = by_id[lesson_id]
        for index, required in enumerate(doc.get("requires", [])):
            if required not in by_id or required == lesson_id:
                continue
            if state.get(required) == 1:
                cycle = trail[trail.index(required):] + [lesson_id, required]
                out.append((file, YamlIssue(doc["requires"].line_of(index),
                            f"circular requires: {' -> '.join(cycle)}; break the cycle",
                            f"requires[{index}]")))
            elif required not in state:
                visit(required, trail + [lesson_id])
        state[lesson_id] = 2

    for lesson_id in sorted(by_id):
        if lesson_id not in state:
            visit(lesson_id, [])
    return out
