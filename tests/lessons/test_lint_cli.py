"""`gateway-tutorial lint` on broken lessons: exit 2 and one FILE:LINE: line per problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lessonfix import ASSETS, VALID, edit, line_of
from tutorial.cli import main


def lint(capsys, *args: str) -> tuple[int, list[str]]:
    code = main(["lint", "--assets", str(ASSETS), *args])
    return code, capsys.readouterr().out.splitlines()


def test_valid_fixtures_pass(capsys):
    code, out = lint(capsys, str(VALID))
    assert code == 0
    assert out == ["ok: 3 lessons, 8 steps"]


def test_misspelt_key_names_line_field_and_suggestion(capsys, lesson_dir):
    f = lesson_dir / "30-gateway.yaml"
    edit(f, "    commands:\n", "    comands:\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    line = line_of(f, "comands:")
    assert any(o.startswith(f"{f}:{line}: steps[0].comands: unknown key")
               and "did you mean 'commands'?" in o for o in out), out
    assert out[-1] == "1 problems in 1 files"


def test_wrong_type(capsys, lesson_dir):
    f = lesson_dir / "10-basics.yaml"
    edit(f, "order: 1\n", "order: first\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    assert f"{f}:4: order: got the string 'first', expected a whole number" in out


def test_broken_indentation_reports_yaml_line(capsys, lesson_dir):
    f = lesson_dir / "20-mesh.yaml"
    edit(f, "    title: Install the CRDs\n", "      title: Install the CRDs\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    line = line_of(f, "title: Install the CRDs")
    assert any(o.startswith(f"{f}:{line}: YAML syntax error") for o in out), out


def test_tab_indentation(capsys, lesson_dir):
    f = lesson_dir / "10-basics.yaml"
    edit(f, "    title: Create the namespace\n", "\ttitle: Create the namespace\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    line = line_of(f, "title: Create the namespace")
    assert any(o.startswith(f"{f}:{line}:") and "tabs" in o for o in out), out


def test_duplicate_step_id(capsys, lesson_dir):
    f = lesson_dir / "20-mesh.yaml"
    edit(f, "  - id: verify\n", "  - id: crds\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    line = line_of(f, "  - id: crds", nth=1)
    assert any(o.startswith(f"{f}:{line}: steps[3].id: duplicate step id 'crds'")
               for o in out), out


def test_unknown_check_kind_suggests(capsys, lesson_dir):
    f = lesson_dir / "10-basics.yaml"
    edit(f, "kind: namespace_exists", "kind: namespace_exist")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    line = line_of(f, "namespace_exist")
    assert any(o.startswith(f"{f}:{line}: steps[0].checks[0].kind: unknown check kind")
               and "did you mean 'namespace_exists'?" in o for o in out), out


def test_dangling_requires(capsys, lesson_dir):
    f = lesson_dir / "30-gateway.yaml"
    edit(f, "requires: [basics, mesh]", "requires: [basics, mesj]")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    assert any(o.startswith(f"{f}:6: requires[1]: no lesson 'mesj'")
               and "did you mean 'mesh'?" in o for o in out), out


def test_all_problems_at_once_across_files(capsys, lesson_dir):
    a, b = lesson_dir / "10-basics.yaml", lesson_dir / "30-gateway.yaml"
    edit(a, "        name: demo\n", "        nme: demo\n")
    edit(b, "        stdin: route", "        stdin: routes")
    edit(b, '"{context}"]', '"{contex}"]')
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    text = "\n".join(out)
    assert "steps[0].checks[0].nme: unknown key (did you mean 'name'?)" in text
    assert "steps[0].checks[0].name: missing required key" in text
    assert "steps[0].commands[1].stdin: no manifest 'routes'" in text
    assert "steps[0].explanations[0].fix_command: unknown variable {contex}" in text
    assert out[-1] == "4 problems in 2 files"


@pytest.mark.parametrize("old,new,field,words", [
    ("format_version: 1\nid: mesh", "format_version: 2\nid: mesh", "format_version", "exactly 1"),
    ("file: gateway-api/gateway.yaml", "file: gateway-api/missing.yaml", "manifests[0].file",
     "not found"),
    ("file: gateway-api/gateway.yaml", "file: ../conftest.py", "manifests[0].file",
     "inside the assets"),
    ("          metadata:\n            name: web\n", "          metadata:\n            name: [web\n",
     "manifests[1].content", "does not parse"),
    ("    variant: helm\n", "    variant: helmm\n", "steps[1].variant", "did you mean 'helm'?"),
    ("    title: With Helm\n", "    title: With Helm\n    default: true\n", "variants[1].default",
     "more than one default"),
    ("order: 3", "order: 2", "order", "duplicate order 2"),
    ("\nid: gateway\n", "\nid: mesh\n", "id", "duplicate lesson id 'mesh'"),
    ("requires: [basics, mesh]", "requires: [basics, mesh, gateway]", "requires[2]", "itself"),
    ("          check: accepted", "          check: acepted", "when.check", "no check 'acepted'"),
    ("        namespace: demo\n        parent:", "        parent:", "checks[2].namespace",
     "missing required key"),
    ("        url: http://127.0.0.1:8080/\n", "", "checks[1]", "neither given"),
    ("{{literal}}", "{literal", "run", "malformed variable"),
    ("      - Use revision {revision}.", "      - Use revision {revison}.", "steps[1].hints",
     "unknown variable {revison}"),
    ("        name: istiod\n        namespace: istio-system\n        type:",
     "        name: istiod\n        namespace: \"{ns}\"\n        type:",
     "checks[0].namespace", "unknown variable {ns}"),
    ("  chart_repo: https", "  Chart-Repo: https", "variables.Chart-Repo", "bad name"),
    ("  revision: \"1-26\"", "  context: \"1-26\"", "variables.context", "built in"),
])
def test_semantic_and_structural_problems(capsys, lesson_dir, old, new, field, words):
    for f in lesson_dir.iterdir():
        if old in f.read_text():
            edit(f, old, new)
            break
    else:
        pytest.fail(f"{old!r} not in any fixture")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    assert any(field in o and words in o and o.startswith(f"{f}:") for o in out), out


def test_requires_cycle(capsys, lesson_dir):
    edit(lesson_dir / "10-basics.yaml", "order: 1\n", "order: 1\nrequires: [gateway]\n")
    code, out = lint(capsys, str(lesson_dir))
    assert code == 2
    assert any("circular requires" in o for o in out), out


def test_single_file_sees_its_siblings(capsys, lesson_dir):
    code, out = lint(capsys, str(lesson_dir / "30-gateway.yaml"))
    assert (code, out) == (0, ["ok: 1 lessons, 2 steps"])


def test_json_output(capsys, lesson_dir):
    f = lesson_dir / "10-basics.yaml"
    edit(f, "order: 1\n", "order: true\n")
    code = main(["lint", "--json", "--assets", str(ASSETS), str(lesson_dir)])
    report = json.loads(capsys.readouterr().out)
    assert code == 2 and report["ok"] is False
    assert report["problems"] == [{"file": str(f), "line": 4, "field": "order",
                                   "message": "got true (a boolean), expected a whole number"}]


def test_missing_path_and_empty_dir(capsys, tmp_path: Path):
    code, out = lint(capsys, str(tmp_path / "nope"), str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'nope'}: no such file or directory" in out
    assert any(o.startswith(f"{tmp_path}: no lesson files") for o in out)


def test_lessons_option_is_the_default_path(capsys, lesson_dir):
    edit(lesson_dir / "10-basics.yaml", "title: Basics", "titel: Basics")
    code = main(["--lessons", str(lesson_dir), "lint", "--assets", str(ASSETS)])
    assert code == 2
    assert "titel: unknown key" in capsys.readouterr().out


def test_real_lessons_lint_clean(capsys):
    """The bundled lessons/ (written in parallel) must lint clean once they exist."""
    from tutorial.paths import assets_dir, lessons_dir

    if not any(lessons_dir().glob("*.yaml")):
        pytest.skip(f"no lesson files in {lessons_dir()} yet")
    code = main(["lint", "--assets", str(assets_dir()), str(lessons_dir())])
    out = capsys.readouterr().out
    assert code == 0, out
