"""Make invisible characters visible, so what is shown is what runs.

A carriage return, an escape sequence or a bidi override inside an argument can make a terminal
print `kubectl get pods` while the shell gets something else. Every command line the tutorial
shows (CLI prompt, TUI, --dry-run) quotes such arguments the way bash's `$'…'` does — visible
and still copy-pasteable — and other text (names, lint output) gets `\\u2028`-style escapes.
"""

from __future__ import annotations

import shlex
import unicodedata

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'"}


def is_invisible(ch: str) -> bool:
    """A character a terminal does not show as itself: controls, format/bidi, separators, odd spaces."""
    category = unicodedata.category(ch)
    return category in _INVISIBLE_CATEGORIES or (category == "Zs" and ch != " ")


def has_invisible(text: str, allow: str = "") -> bool:
    return any(is_invisible(ch) and ch not in allow for ch in text)


def _code(ch: str) -> str:
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else (f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}")


def escape_invisible(text: str, allow: str = "") -> str:
    """text with every invisible character (except those in `allow`) written as \\xHH / \\uHHHH."""
    if not has_invisible(text, allow):
        return text
    return "".join(_code(ch) if is_invisible(ch) and ch not in allow else ch for ch in text)


def quote_arg(arg: str) -> str:
    """shlex.quote, except an argument holding invisible characters becomes $'…' with escapes."""
    if not has_invisible(arg):
        return shlex.quote(arg)
    body = "".join(_NAMED.get(ch) or (_code(ch) if is_invisible(ch) else ch) for ch in arg)
    return f"$'{body}'"


def join_argv(argv) -> str:
    """shlex.join with every argument passed through quote_arg."""
    return " ".join(quote_arg(a) for a in argv)
