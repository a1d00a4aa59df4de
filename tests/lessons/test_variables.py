"""`{variable}` substitution in argv elements."""

from __future__ import annotations

import pytest

from tutorial.lessons.variables import (VariableError, names_in, substitute, substitute_argv,
                                        unknown_in)


def test_substitute_keeps_elements_whole():
    argv = ["kubectl", "--context", "{context}", "-f", "{assets}/a b.yaml"]
    got = substitute_argv(argv, {"context": "kind one", "assets": "/x"})
    assert got == ["kubectl", "--context", "kind one", "-f", "/x/a b.yaml"]


def test_escaped_braces_are_literal():
    assert substitute("{{name}}={name}", {"name": "v"}) == "{name}=v"
    assert substitute("jsonpath={{.items}}", {}) == "jsonpath={.items}"
    assert names_in("{{x}} {y}") == ["y"]


@pytest.mark.parametrize("template", ["{unclosed", "stray }", "{Bad Name}", "{}"])
def test_malformed_templates(template):
    with pytest.raises(VariableError):
        names_in(template)


def test_unknown_variable():
    with pytest.raises(VariableError, match=r"unknown variable \{ctx\}.*known: context"):
        substitute("{ctx}", {"context": "c"})
    assert unknown_in(["{a}", "{b}", "{{c}}"], ["a"]) == [
        "unknown variable {b}; known: a"]
