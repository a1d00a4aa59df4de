"""The shipped JSON Schema: generated from the spec, accepts the valid fixtures, agrees with lint."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from lessonfix import ASSETS, VALID, edit
from tutorial.lessons.lint import lint
from tutorial.lessons.schema import SCHEMA_PATH, load_schema, render


@pytest.fixture(scope="module")
def validator():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_shipped_schema_matches_the_spec():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), (
        "lesson.schema.json is stale: run python -m tutorial.lessons.schema > "
        "tutorial/lessons/lesson.schema.json")


@pytest.mark.parametrize("path", sorted(VALID.glob("*.yaml")), ids=lambda p: p.name)
def test_valid_fixtures_match_the_schema(validator, path):
    errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert errors == []


# Structural mutations: (file, old, new). Lint and the schema must both reject each.
MUTATIONS = [
    ("10-basics.yaml", "title: Basics", "titel: Basics"),                       # unknown key
    ("10-basics.yaml", "    commands:", "    comands:"),                        # unknown nested key
    ("10-basics.yaml", "        name: demo\n", "        nme: demo\n"),          # check key
    ("10-basics.yaml", "order: 1", "order: first"),                             # wrong type
    ("10-basics.yaml", "optional: true", "optional: 3"),                        # wrong type
    ("20-mesh.yaml", "timeout: 30", "timeout: soon"),                           # check timeout
    ("20-mesh.yaml", "    default: true", "    default: yes please"),          # bool
    ("30-gateway.yaml", "        status: 404", "        status: \"404\""),      # int as string
    ("30-gateway.yaml", "summary: A Gateway asks Istio for a listening proxy.\n", ""),  # missing
    ("30-gateway.yaml", "        fix: Label the namespace.\n", ""),              # missing nested
    ("30-gateway.yaml", "kind: gateway_programmed", "kind: gateway_programed"), # unknown kind
    ("30-gateway.yaml", "        url: http://127.0.0.1:8080/\n", ""),           # one-of
    ("30-gateway.yaml", "        file: gateway-api/gateway.yaml\n", ""),         # one-of
    ("20-mesh.yaml", "format_version: 1", "format_version: 2"),                 # const
    ("20-mesh.yaml", "  - id: helm\n", "  - id: Helm\n"),                       # slug
    ("20-mesh.yaml", "        names: [gateways", "        names: [7, gateways"),  # item type
]


def test_unmutated_copy_is_clean(lesson_dir):
    assert lint([lesson_dir], ASSETS).problems == []


@pytest.mark.parametrize("name,old,new", MUTATIONS)
def test_lint_and_schema_agree_on_structural_mutations(validator, lesson_dir, name, old, new):
    path = lesson_dir / name
    edit(path, old, new)
    schema_errors = list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))))
    problems = [p for p in lint([lesson_dir], ASSETS).problems if p.file == str(path)]
    assert schema_errors, "the schema accepted a broken lesson"
    assert problems, "lint accepted a broken lesson"


def test_the_documented_example_is_valid(validator, tmp_path):
    doc = Path(__file__).resolve().parents[2] / "docs" / "lesson-format.md"
    example = doc.read_text(encoding="utf-8").split("## Example", 1)[1]
    example = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert list(validator.iter_errors(yaml.safe_load(example))) == []
    (tmp_path / "gateway.yaml").write_text(example, encoding="utf-8")
    (tmp_path / "first.yaml").write_text(
        "format_version: 1\nid: crds-and-class\ntitle: T\norder: 1\nsummary: S\n"
        "steps: [{id: s, title: T, text: x}]\n", encoding="utf-8")
    assets = tmp_path / "assets" / "gateway-api"
    assets.mkdir(parents=True)
    (assets / "gateway.yaml").write_text("kind: Gateway\n", encoding="utf-8")
    assert lint([tmp_path], tmp_path / "assets").problems == []
