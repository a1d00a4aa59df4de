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


# ---- the sandbox: a small Kubernetes, layered (docs/sandbox-design.md, "Layout") ----
SANDBOX = PKG / "sandbox"
MAX_LINES = 400
LONG_MODULES: dict[str, str] = {}  # path under tutorial/ -> why it may be longer; keep this empty if at all possible


def _dotted(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = PKG.parent / dotted.replace(".", "/")
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _sandbox_imports(path: Path) -> set[str]:
    """The tutorial.sandbox modules a module imports anywhere: top level, in functions, under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tutorial.sandbox"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tutorial.sandbox"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if _is_module(sub) else node.module)
    return found


def _graph(package: str) -> dict[str, set[str]]:
    """Import edges among the modules of one sandbox package (its subpackages included)."""
    root = PKG.parent / package.replace(".", "/")
    modules = {_dotted(p): p for p in sorted(root.rglob("*.py"))}
    return {name: {m for m in _sandbox_imports(path) if m in modules and m != name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of the graph as a list of modules, or [] when it has none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_nothing_in_the_api_layer_imports_the_server():
    """The server calls the handler, the handler the REST verbs, the verbs request parsing: never back up."""
    graph = _graph("tutorial.sandbox.api")
    offenders = sorted(m for m, deps in graph.items() if "tutorial.sandbox.api.server" in deps)
    assert offenders == []
    assert "tutorial.sandbox.api.handler" in graph["tutorial.sandbox.api.server"]  # the rule tests the real graph


def test_the_api_layer_imports_no_controller_and_no_istio():
    """Controllers and istiod act on what the API stored; the API server never calls up into them.
    (It does reach the kubelet, as a real API server does for exec, logs and port-forward.)"""
    above = ("tutorial.sandbox.controllers", "tutorial.sandbox.istio")
    offenders = {_dotted(p): sorted(m for m in _sandbox_imports(p) if m.startswith(above))
                 for p in (SANDBOX / "api").rglob("*.py")}
    assert {m: deps for m, deps in offenders.items() if deps} == {}


def test_api_and_storage_modules_import_each_other_without_cycles():
    for package in ("tutorial.sandbox.api", "tutorial.sandbox.storage"):
        assert _cycle(_graph(package)) == [], package


def test_storage_imports_nothing_above_it():
    """The store is the bottom layer: it knows nothing of HTTP, controllers, Istio or the data plane."""
    offenders = {_dotted(p): sorted(m for m in _sandbox_imports(p) if not m.startswith("tutorial.sandbox.storage"))
                 for p in (SANDBOX / "storage").rglob("*.py")}
    assert {m: deps for m, deps in offenders.items() if deps} == {}


def test_every_sandbox_package_says_what_it_owns():
    packages = sorted(p for p in SANDBOX.rglob("__init__.py"))
    assert len(packages) >= 8
    missing = [str(p.relative_to(PKG.parent)) for p in packages if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []


def test_no_sandbox_module_is_over_400_lines():
    sizes = {str(p.relative_to(PKG)): len(p.read_text(encoding="utf-8").splitlines()) for p in SANDBOX.rglob("*.py")}
    assert len(sizes) > 40
    long = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in LONG_MODULES}
    assert long == {}, f"split these along a real seam (or list them in LONG_MODULES with a reason): {long}"
