"""Outside YAML is read with caps: alias expansions, nesting depth and string size (issue 19)."""

from __future__ import annotations

import pytest
import yaml

from lessonfix import ASSETS, line_of
from tutorial.cli import main
from tutorial.lessons import LessonErrors, load_lessons
from tutorial.lessons.safeyaml import YamlLimitError, safe_load, safe_load_all


def laughs(levels: int = 6, width: int = 10) -> str:
    """Nested aliases: `levels` anchors of `width` references each expand to width**levels values."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    lines.append(f"boom: [" + ", ".join([f"*l{levels - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_with_the_line_of_the_alias():
    with pytest.raises(YamlLimitError) as info:
        safe_load(laughs())
    assert "too many alias expansions" in str(info.value)
    assert info.value.problem_mark.line + 1 in range(3, 8)


def test_ordinary_aliases_still_load():
    assert safe_load("a: &x {k: 1}\nb: *x\nc: [*x, *x]\n") == {"a": {"k": 1}, "b": {"k": 1},
                                                             "c": [{"k": 1}, {"k": 1}]}
    assert safe_load_all("a: 1\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]


def test_depth_and_string_size_are_capped():
    with pytest.raises(YamlLimitError, match="nested more than 100 levels"):
        safe_load("[" * 150 + "]" * 150)
    with pytest.raises(YamlLimitError, match="a string of"):
        safe_load("x: " + "a" * (5 * 1024 * 1024))
    with pytest.raises(yaml.YAMLError):
        safe_load("a: &a [*a]\n")


def _lesson_with(lesson_dir, extra: str):
    path = lesson_dir / "10-basics.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_lesson_file_with_laughs_gives_file_line_error(lesson_dir, capsys):
    path = _lesson_with(lesson_dir, "x_bomb:\n" + "".join("  " + l + "\n" for l in laughs().splitlines()))
    with pytest.raises(LessonErrors) as info:
        load_lessons(lesson_dir, ASSETS)
    bomb = [p for p in info.value.problems if "too many alias expansions" in p.message]
    assert bomb and bomb[0].file == str(path) and bomb[0].line >= line_of(path, "x_bomb")
    assert main(["lint", str(lesson_dir)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:{bomb[0].line}" in out and "too many alias expansions" in out


def test_inline_manifest_with_laughs_is_a_lint_problem(lesson_dir):
    path = lesson_dir / "30-gateway.yaml"
    text = path.read_text(encoding="utf-8")
    assert "content: |" in text
    body = "".join("          " + l + "\n" for l in laughs().splitlines())
    path.write_text(text.replace("content: |\n", "content: |\n" + body, 1), encoding="utf-8")
    with pytest.raises(LessonErrors) as info:
        load_lessons(lesson_dir, ASSETS)
    assert any("too many alias expansions" in p.message and p.line > 0 for p in info.value.problems)
