"""Rewrite the ported / left-out tables at the end of docs/sandbox-design.md from cases.yaml.

    python tests/sandbox/conformance/docs_tables.py
(test_conformance.test_design_doc_lists_every_case fails while the tables are stale.)
"""

from __future__ import annotations

from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DOC = HERE.parents[2] / "docs" / "sandbox-design.md"


def tables(cases: dict) -> str:
    ported = "\n".join(f"| {c['name']} | {c['feature']} | {'by hand' if c.get('by_hand') else 'from the Go literals'} |"
                       for c in cases["ported"])
    left = "\n".join(f"| {c['name']} | {c['reason']} |" for c in cases["left_out"])
    return (f"Ported ({len(cases['ported'])}):\n\n| case | feature | expectations |\n|---|---|---|\n{ported}\n\n"
            f"Left out ({len(cases['left_out'])}):\n\n| case | reason |\n|---|---|\n{left}\n")


def main() -> None:
    doc = DOC.read_text(encoding="utf-8")
    start = doc.index("Ported (")
    DOC.write_text(doc[:start] + tables(yaml.safe_load((HERE / "cases.yaml").read_text())), encoding="utf-8")


if __name__ == "__main__":
    main()
