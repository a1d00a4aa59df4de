"""The coverage table of docs/explanations.md, generated from the rule files and the tests.

Run `python tests/explain/docs_table.py --write` after changing rules or tests;
test_docs_table_is_current fails while the document is stale.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[1] / "docs" / "explanations.md"
START, END = "<!-- coverage-table:start -->", "<!-- coverage-table:end -->"
TITLES = {"cli": "kubectl, helm and istioctl errors", "istio": "What Istio writes and does",
          "pods": "Pod states", "gateway_api": "Gateway API v1.3.0 reasons", "http": "HTTP through the Gateway",
          "fallback": "Last resorts"}


def e2e_tests() -> dict[str, list[str]]:
    """rule id -> end-to-end tests whose source names it (a quoted rule id in the test body)."""
    from tutorial.engine.explain_rules import load_rules

    ids = {r.id for r in load_rules()}
    found: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_e2e_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                strings = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
                for rule_id in ids & strings:
                    found.setdefault(rule_id, []).append(f"{path.name}::{node.name}")
    return found


def table() -> str:
    from tutorial.engine.explain_rules import FAMILIES, load_rules

    e2e = e2e_tests()
    lines = []
    for family in FAMILIES:
        lines += [f"\n### {TITLES[family]} (`explain_rules/{family}.yaml`)\n",
                  "| Reason / error covered | Rule | Catalog | Tests |", "|---|---|---|---|"]
        for rule in (r for r in load_rules() if r.family == family):
            covers = "<br>".join(c.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;") for c in rule.covers)
            tests = [f"test_rules.py::test_rule[{rule.id}]"] + e2e.get(rule.id, [])
            if rule.catalog:
                tests.append("test_catalog.py (" + ", ".join(rule.catalog) + ")")
            lines.append(f"| {covers} | `{rule.id}` | {', '.join(rule.catalog) or '—'} | "
                         + "<br>".join(f"`{t}`" for t in tests) + " |")
    return "\n".join(lines).strip() + "\n"


def render(doc: str) -> str:
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table()}{END}{tail}"


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    text = render(DOC.read_text(encoding="utf-8"))
    if "--write" in sys.argv:
        DOC.write_text(text, encoding="utf-8")
    else:
        print(text)
