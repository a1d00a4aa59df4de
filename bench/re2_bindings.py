"""Measure an RE2 binding against Python's `re` on the sandbox's regex matches (path/header full match).

Run with the interpreter whose `re2` module to measure:
    .venv/bin/python bench/re2_bindings.py
Prints install facts, compile and match times, and ratios against `re` measured in the same run.
"""

from __future__ import annotations

import re
import sys
import time

PATTERNS = [r"/v\d+/.*", r"/foo/[a-z]+/bar", r"(?i)^x-.*$", r"[a-z0-9]{1,8}-[0-9]+", r"/api/(list|vote)"]
SUBJECTS = ["/v2/example", "/foo/abc/bar", "x-header", "abc-123", "/api/vote", "/nomatch/at/all/" * 4]


def measure(mod, rounds: int = 20000) -> tuple[float, float]:
    start = time.perf_counter()
    for _ in range(200):
        compiled = [mod.compile(p) for p in PATTERNS]
        if hasattr(mod, "purge"):
            mod.purge()
    compile_s = (time.perf_counter() - start) / 200
    start = time.perf_counter()
    for _ in range(rounds):
        for c in compiled:
            for s in SUBJECTS:
                c.fullmatch(s)
    return compile_s, (time.perf_counter() - start) / rounds


def main() -> None:
    import re2

    base_c, base_m = measure(re)
    c, m = measure(re2)
    print(f"re2 module: {re2.__name__} from {re2.__file__}")
    print(f"python re : compile {base_c*1e6:8.1f} us  match {base_m*1e6:8.1f} us (per 5x6 round)")
    print(f"re2       : compile {c*1e6:8.1f} us  match {m*1e6:8.1f} us")
    print(f"ratio re2/re: compile {c/base_c:.2f}  match {m/base_m:.2f}")
    # RE2 semantics: no backreferences, linear time (a pattern Python's re accepts but Envoy rejects)
    try:
        options = re2.Options() if hasattr(re2, "Options") else None
        if options is not None:
            options.log_errors = False
        re2.compile(r"(a)\1", options) if options is not None else re2.compile(r"(a)\1")
        print("backreference accepted (not RE2 semantics)")
    except Exception as exc:  # noqa: BLE001
        print(f"backreference rejected as in Envoy: {type(exc).__name__}")


if __name__ == "__main__":
    sys.exit(main())
