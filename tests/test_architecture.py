"""The two walls: only tutorial/ui imports textual; the CLI does not pull in kubernetes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "tutorial"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _modules():
    files = sorted(PKG.rglob("*.py"))
    assert files, "no modules found"
    return files


def test_only_ui_imports_textual():
    offenders = [
        str(p.relative_to(PKG.parent))
        for p in _modules()
        if "textual" in _imports(p) and "ui" not in p.relative_to(PKG).parts[:1]
    ]
    assert offenders == []


def test_ui_never_imports_kubernetes_or_sh():
    offenders = [
        str(p.relative_to(PKG.parent))
        for p in _modules()
        if p.relative_to(PKG).parts[0] == "ui" and _imports(p) & {"kubernetes", "sh"}
    ]
    assert offenders == []


def test_cli_import_does_not_import_kubernetes_or_textual():
    code = (
        "import sys, tutorial.cli as c; c.build_parser();"
        "bad=[m for m in ('kubernetes','textual','sh') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
