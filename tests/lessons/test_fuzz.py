"""Mutated lesson files never crash the loader or lint: only LessonErrors, never a traceback."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lessonfix import ASSETS, VALID
from tutorial.cli import main
from tutorial.lessons import LessonErrors, load_lessons
from tutorial.lessons.lint import lint

FILES = sorted(VALID.glob("*.yaml"))
GARBAGE = st.sampled_from(["\t", ":", "- ", "{", "}", "[", "]", "&a", "*a", "!!python/tuple",
                           "'", '"', "#", "|", ">", "? ", "---", "\x00", "\x85", "é", "%",
                           "@", "`", "\\", "{{", "{nope}", ",", "<<: *a", "!tag "])
VALUES = st.sampled_from(["[]", "{}", "123", "1.5", "true", "null", '"x"', "-1", "~",
                          "[a, b]", "{a: 1}", "2024-01-01", "0x1F", "''"])


def _lines(text: str) -> list[str]:
    return text.split("\n")


@st.composite
def mutation(draw, text: str) -> str:
    lines = _lines(text)
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["delete", "duplicate", "garbage", "indent", "dedent", "tab",
                                 "truncate", "rename", "retype", "swap"]))
    line = lines[i]
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, line)
    elif kind == "garbage":
        at = draw(st.integers(0, len(line)))
        lines[i] = line[:at] + draw(GARBAGE) + line[at:]
    elif kind in ("indent", "dedent", "tab"):
        pad = {"indent": "  ", "tab": "\t", "dedent": ""}[kind]
        lines[i] = pad + (line[2:] if kind == "dedent" and line.startswith("  ") else line)
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif kind == "rename" and ":" in line:
        key, _, rest = line.partition(":")
        lines[i] = key + draw(st.sampled_from(["x", "s", "_", "-1"])) + ":" + rest
    elif kind == "retype" and ":" in line:
        lines[i] = line.partition(":")[0] + ": " + draw(VALUES)
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


@st.composite
def mutated_set(draw) -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in FILES}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(texts)))
        texts[name] = draw(mutation(texts[name]))
    return texts


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_set())
def test_mutations_never_crash(texts):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, text in texts.items():
            (root / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            lessons = load_lessons(root, ASSETS)
        except LessonErrors as exc:
            assert exc.problems and all(p.line >= 0 and p.file for p in exc.problems)
            str(exc)
        else:
            for _, step in lessons.resolve_target("all"):
                [m.text for m in step.manifests]
        report = lint([root], ASSETS)
        json.dumps(report.to_dict())
        assert report.ok == (not report.problems)


def test_cli_lint_on_garbage_file_exits_2(capsys):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(VALID, root, dirs_exist_ok=True)
        (root / "10-basics.yaml").write_bytes(b"\xff\xfe\x00garbage: [")
        (root / "40-empty.yaml").write_text("", encoding="utf-8")
        (root / "50-list.yaml").write_text("- a\n- b\n", encoding="utf-8")
        code = main(["lint", "--assets", str(ASSETS), str(root)])
    out = capsys.readouterr().out
    assert code == 2
    assert "10-basics.yaml:1: not UTF-8 text" in out
    assert "40-empty.yaml:1: the file holds nothing (null), expected a lesson" in out
    assert "50-list.yaml:1: the file holds a list, expected a lesson" in out
