"""Load lesson files into a LessonSet, or report every problem in them at once."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from tutorial.lessons.checkspec import CHECK_KINDS, COMMON_FIELDS, default_title
from tutorial.lessons.lessonset import LessonSet
from tutorial.lessons.models import (Break, Check, Command, Explanation, Lesson, LessonErrors,
                                     LessonProblem, Manifest, Step, Variant)
from tutorial.lessons.semantics import check_ids, check_lesson, check_set
from tutorial.lessons.validate import BAD, validate_lesson
from tutorial.lessons.yamlsrc import LMap, YamlIssue, load_located

LESSON_SUFFIXES = (".yaml", ".yml")


def lesson_files(paths: Iterable[Path]) -> tuple[list[Path], list[LessonProblem]]:
    """Expand directories to their *.yaml/*.yml files (sorted); report missing paths."""
    files, problems = [], []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in LESSON_SUFFIXES
                           and p.is_file())
            if not found:
                problems.append(LessonProblem(str(path), 0, "", "no lesson files (*.yaml) "
                                              "here; pass a directory that holds lessons"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(LessonProblem(str(path), 0, "", "no such file or directory"))
    return files, problems


def _read(path: Path) -> tuple[str | None, list[YamlIssue]]:
    try:
        return path.read_bytes().decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return None, [YamlIssue(1, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    except OSError as exc:
        return None, [YamlIssue(0, f"cannot read the file: {exc.strerror}")]


def check_files(files: Sequence[Path], assets_dir: Path):
    """Parse, validate and cross-check files. Returns ([(name, cleaned doc)], problems)."""
    docs, problems = [], []
    for path in files:
        name = str(path)
        text, issues = _read(path)
        data = None
        if text is not None:
            data, parse_issues = load_located(text)
            issues += parse_issues
        if text is not None and not (data is None and issues):
            cleaned, more = validate_lesson(data)
            issues += more
            if cleaned is not BAD:
                issues += check_lesson(cleaned, assets_dir)
                docs.append((name, cleaned))
        problems += [LessonProblem(name, i.line, i.field, i.message) for i in issues]
    unreadable = len(files) - len(docs)
    problems += [LessonProblem(f, i.line, i.field, i.message)
                 for f, i in check_set(docs, unreadable)]
    problems.sort(key=lambda p: (p.file, p.line, p.field))
    return docs, problems


def load_files(files: Sequence[Path], assets_dir: Path) -> LessonSet:
    """Load exactly these files; raise LessonErrors listing every problem."""
    docs, problems = check_files(files, assets_dir)
    if problems:
        raise LessonErrors(problems)
    lessons = [build_lesson(name, doc, Path(assets_dir)) for name, doc in docs]
    lessons.sort(key=lambda lesson: lesson.order)
    return LessonSet(tuple(lessons), Path(assets_dir))


def load_lessons(directory: Path, assets_dir: Path) -> LessonSet:
    """Load every lesson file in a directory; raise LessonErrors listing every problem."""
    files, problems = lesson_files([Path(directory)])
    if problems:
        raise LessonErrors(problems)
    return load_files(files, assets_dir)


def _command(file: str, m: LMap) -> Command:
    return Command(run=tuple(m["run"]), stdin=m.get("stdin"), title=m.get("title"),
                   timeout=m.get("timeout", 300), ok_exit_codes=tuple(m.get("ok_exit_codes",
                                                                             (0,))),
                   show_only=m.get("show_only", False), file=file, line=m.line)


def _commands(file: str, step: LMap, key: str) -> tuple[Command, ...]:
    return tuple(_command(file, c) for c in step.get(key, []))


def _plain(value):
    """Strip LMap/LList into dicts and lists for the engine."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check(file: str, m: LMap, check_id: str) -> Check:
    kind = m["kind"]
    params = {**CHECK_KINDS[kind].defaults(),
              **{k: _plain(v) for k, v in m.items() if k not in COMMON_FIELDS}}
    return Check(kind=kind, id=check_id, title=m.get("title") or default_title(kind, params),
                 timeout=m.get("timeout", COMMON_FIELDS["timeout"].default), params=params,
                 file=file, line=m.line)


def _explanation(file: str, m: LMap) -> Explanation:
    fix = m.get("fix_command")
    return Explanation(id=m["id"], when=_plain(m["when"]), title=m["title"], why=m["why"],
                       fix=m["fix"], fix_command=tuple(fix) if fix else None, file=file,
                       line=m.line)


def _break(file: str, m: LMap | None) -> Break | None:
    if m is None:
        return None
    return Break(symptom=m["symptom"], commands=_commands(file, m, "commands"),
                 sandbox_only=m.get("sandbox_only", False), minutes=m.get("minutes"),
                 objectives=tuple(m.get("objectives", [])), file=file, line=m.line)


def _step(file: str, lesson_id: str, m: LMap, assets_dir: Path) -> Step:
    checks = list(m.get("checks", []))
    manifests = tuple(Manifest(id=x["id"], title=x.get("title"), file=x.get("file"),
                               content=x.get("content"), assets_dir=assets_dir, source=file,
                               line=x.line) for x in m.get("manifests", []))
    return Step(
        id=m["id"], lesson_id=lesson_id, title=m["title"], text=m["text"],
        variant=m.get("variant"), manifests=manifests,
        commands=_commands(file, m, "commands"),
        checks=tuple(_check(file, c, i) for c, i in zip(checks, check_ids(checks))),
        hints=tuple(m.get("hints", [])),
        solve=_commands(file, m, "solve") if "solve" in m else None,
        cleanup=_commands(file, m, "cleanup"),
        explanations=tuple(_explanation(file, e) for e in m.get("explanations", [])),
        optional=m.get("optional", False), verify_when=m.get("verify_when"),
        breaks=_break(file, m.get("break")), file=file, line=m.line)


def build_lesson(file: str, doc: LMap, assets_dir: Path) -> Lesson:
    """Turn one cleaned, problem-free lesson document into a Lesson."""
    variants = tuple(Variant(id=v["id"], title=v["title"], summary=v.get("summary", ""),
                             default=v.get("default", False), file=file, line=v.line)
                     for v in doc.get("variants", []))
    return Lesson(
        id=doc["id"], title=doc["title"], order=doc["order"], summary=doc["summary"],
        steps=tuple(_step(file, doc["id"], s, assets_dir) for s in doc["steps"]),
        requires=tuple(doc.get("requires", [])), variables=dict(doc.get("variables", {})),
        variants=variants, objectives=tuple(doc.get("objectives", [])), minutes=doc.get("minutes"),
        instructor_notes=doc.get("instructor_notes", ""), format_version=doc["format_version"],
        file=file, line=doc.line)
