"""Instructor metadata in lesson files: objectives, expected minutes, notes; lint, schema, `lessons --instructor`."""

from __future__ import annotations

import json

import pytest

from lessonfix import ASSETS, edit, line_of
from tutorial.cli import main
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir


def lint(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["lint", "--assets", str(ASSETS), *args])
    return code, capsys.readouterr().out.splitlines()


def test_every_bundled_lesson_has_objectives_minutes_and_notes():
    for lesson in load_lessons(lessons_dir(), assets_dir()).lessons:
        assert lesson.objectives and all(o.strip() for o in lesson.objectives), lesson.id
        assert lesson.minutes and 1 <= lesson.minutes <= 240, lesson.id
        assert len(lesson.instructor_notes.split()) >= 10, lesson.id


def test_lessons_instructor_shows_the_plan(capsys):
    assert main(["lessons", "--instructor"]) == 0
    out = capsys.readouterr().out
    lessons = load_lessons(lessons_dir(), assets_dir()).lessons
    total = sum(l.minutes for l in lessons)
    assert f"about {total} minutes" in out
    for lesson in lessons:
        assert f"~{lesson.minutes} min" in out and lesson.title in out
    assert "Notes:" in out
    assert main(["lessons", "--instructor", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_minutes"] == total
    first = doc["lessons"][0]
    assert first["objectives"] == list(lessons[0].objectives) and first["instructor_notes"]
    # every challenge is in the plan with its own minutes and objectives
    planned = {c["id"]: c for e in doc["lessons"] for c in e.get("challenges", [])}
    challenges = [s for l in lessons for s in l.steps_for() if s.is_challenge]
    assert challenges and set(planned) == {c.id for c in challenges}
    for c in challenges:
        assert planned[c.id]["minutes"] == c.breaks.minutes and planned[c.id]["objectives"] == list(c.breaks.objectives)
        assert planned[c.id]["sandbox_only"] == c.breaks.sandbox_only


def _add_meta(path, text: str) -> None:
    edit(path, "order: 1\n", "order: 1\n" + text)


@pytest.mark.parametrize("meta, field, words", [
    ("minutes: 0\n", "minutes", "1 to 240"),
    ("minutes: 600\n", "minutes", "1 to 240"),
    ("minutes: ten\n", "minutes", "whole number"),
    ("objectives: []\n", "objectives", "at least"),
    ("objectives:\n  - '  '\n", "objectives[0]", "blank"),
    ("objectives: Learn things\n", "objectives", "a list of strings"),
    ("instructor_notes: ' '\n", "instructor_notes", "blank"),
    ("instructor_note: typo\n", "instructor_note", "did you mean 'instructor_notes'?"),
])
def test_lint_names_a_bad_instructor_field(capsys, lesson_dir, meta, field, words):
    f = lesson_dir / "10-basics.yaml"
    _add_meta(f, meta)
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2, out
    assert any(f": {field}:" in o and words in o for o in out), out


def test_lint_accepts_good_instructor_fields_and_the_schema_does_too(capsys, lesson_dir):
    import yaml
    from jsonschema import Draft202012Validator

    from tutorial.lessons.schema import load_schema

    f = lesson_dir / "10-basics.yaml"
    _add_meta(f, "minutes: 12\nobjectives:\n  - Create a namespace.\ninstructor_notes: Demo it first.\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 0, out
    Draft202012Validator(load_schema()).validate(yaml.safe_load(f.read_text()))
    bad = yaml.safe_load(f.read_text()) | {"minutes": "ten"}
    assert list(Draft202012Validator(load_schema()).iter_errors(bad))
