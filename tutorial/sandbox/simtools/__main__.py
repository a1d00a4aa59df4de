"""`python -m tutorial.sandbox.simtools helm|istioctl ARGS...`: what the wrapper scripts run."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    tool, rest = (argv[0], argv[1:]) if argv else ("", [])
    if tool == "helm":
        from tutorial.sandbox.simtools.helm import main as run
    elif tool == "istioctl":
        from tutorial.sandbox.simtools.istioctl import main as run
    else:
        print("usage: python -m tutorial.sandbox.simtools helm|istioctl [ARGS...]", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
