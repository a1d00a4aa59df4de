"""CEL as the Kubernetes API server runs it: a compiled-program cache and the Kubernetes extensions.

The engine is the `common-expression-language` package (Rust `cel` interpreter, see pyproject.toml).
On top we add what Kubernetes' CEL environment has and the base interpreter lacks: the strings
extension functions the rules use (`split`, `lowerAscii`, ...), the global `matches(s, re)` form,
the IP, CIDR, quantity and URL libraries (cellib.py), and the escaping of property names that are CEL keywords (`namespace` is seen by a
rule as `__namespace__`, like the API server does).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from tutorial.sandbox.api.validation import cellib

# property names a rule sees escaped (k8s.io/apiserver/pkg/cel: reserved words become __word__)
RESERVED = {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
            "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}
_LOCK = threading.Lock()
_PROGRAMS: dict[str, Any] = {}
_REGEX: dict[str, re.Pattern] = {}


def _quiet_library_failures(record: logging.LogRecord) -> bool:
    """The engine logs every Python function that raised; a library function raising (cellib.py) is how a
    rule fails with the library's words, and the caller reports it, so the log line is noise."""
    return not record.getMessage().startswith("Python function '")


logging.getLogger("cel").addFilter(_quiet_library_failures)


def _cel():
    """The engine module, imported on first use: its package also loads a CLI (typer, rich), ~150 ms
    that processes which never evaluate a rule (the TUI, fleet commands) should not pay."""
    import cel

    return cel


class CelError(Exception):
    """An expression that does not compile, or fails at run time (no such key, wrong types...)."""


class CelUnsupported(CelError):
    """An expression our engine cannot run (syntax or a function it lacks) though a real API server may:
    callers say so ("not simulated by the sandbox") rather than refuse the object."""


def escape(name: str) -> str:
    """The name a CEL rule uses for an object property (namespace -> __namespace__)."""
    if name in RESERVED:
        return f"__{name}__"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and "__" not in name:
        return name
    out = name.replace("__", "__underscores__")
    return out.replace(".", "__dot__").replace("-", "__dash__").replace("/", "__slash__")


def _regex(pattern: str) -> re.Pattern:
    """RE2 pattern -> Python pattern; inline flags such as (?i) after ^ move to the front."""
    found = _REGEX.get(pattern)
    if found is None:
        flags = "".join(re.findall(r"\(\?([imsU]+)\)", pattern))
        body = re.sub(r"\(\?[imsU]+\)", "", pattern)
        found = _REGEX[pattern] = re.compile((f"(?{flags})" if flags else "") + body)
    return found


def _matches(text: str, pattern: str) -> bool:
    return _regex(pattern).search(text) is not None


def _split(text: str, sep: str, limit: int = -1) -> list[str]:
    if limit == 0:
        return []
    return text.split(sep) if limit < 0 else text.split(sep, limit - 1)


FUNCTIONS = {
    "split": _split, "matches": _matches,
    "lowerAscii": lambda s: s.lower(), "upperAscii": lambda s: s.upper(), "trim": lambda s: s.strip(),
    "replace": lambda s, old, new, n=-1: s.replace(old, new, n), "indexOf": lambda s, sub: s.find(sub),
    "join": lambda items, sep="": sep.join(items),
    **cellib.FUNCTIONS,
}


def compile_rule(expression: str):
    """The compiled program for expression (cached: the same rule text compiles once per process)."""
    program = _PROGRAMS.get(expression)
    if program is None:
        text = expression
        for old, new in cellib.REWRITES.items():
            text = text.replace(old, new)
        try:
            program = _cel().compile(text)
        except Exception as e:  # noqa: BLE001 - the engine raises several types for syntax errors
            raise CelUnsupported(f"compilation failed: {e}") from None
        with _LOCK:
            _PROGRAMS[expression] = program
    return program


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """Run expression with variables (and the Kubernetes functions); CelError on a run-time error."""
    program = compile_rule(expression)
    context = _cel().Context()
    context.update(FUNCTIONS)
    for name, value in variables.items():
        context.add_variable(name, value)
    try:
        return program.execute(context)
    except KeyError as e:
        raise CelError(f"no such key: {e.args[0] if e.args else e}") from None
    except Exception as e:  # noqa: BLE001 - type errors, overflow, division by zero...
        if str(e).startswith("Undefined variable or function"):
            raise CelUnsupported(str(e).split(". Check")[0]) from None
        raise CelError(_library_error(str(e))) from None


def _library_error(text: str) -> str:
    """A failure raised by a library function (cellib.py), in the library's own words."""
    found = re.search(r"Python function call failed: \w+: (.*?)(?:\. Check function arguments.*)?$", text, re.S)
    return found.group(1) if found else text


def optional(value: Any):
    """oldSelf for a rule with optionalOldSelf: an optional (none on create)."""
    optional_value = _cel().OptionalValue
    return optional_value.none() if value is None else optional_value.of(value)
