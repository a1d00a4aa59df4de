"""The 10,000-case version of tests/lessons/test_fuzz_trust.py (lesson files, progress files and
journal ConfigMaps from outside). Same fixed seed and the same per-case limits as CI (2 s of CPU,
200 MB tracemalloc peak); CI runs 60 cases per target.

    python bench/fuzz_trust.py [CASES] [--workers N]

Prints the pytest command it runs, then its wall time, exit code and the largest resident set
of any process it started (getrusage of the waited children), and hypothesis' per-target
statistics (typical case runtimes)."""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEST = "tests/lessons/test_fuzz_trust.py"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="?", type=int, default=10_000,
                        help="hypothesis examples per target (default 10000; CI runs 60)")
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2),
                        help="pytest-xdist workers, one target each at a time (default 2; the machine is shared)")
    parser.add_argument("--target", choices=("lesson_files", "progress_files", "journal_configmaps"),
                        help="run one target only (default: all three)")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("CASES must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # --dist load: the three targets live in one file, which --dist loadfile would give one worker
    # --timeout=0: each case is bounded (2 s of CPU, 200 MB); the suite's 300 s per test would cut
    # a 10,000-case target short (it did at 11:49 UTC, mid-run, with no case at fault)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", str(args.workers),
           "--dist", "load", "--timeout=0", "--hypothesis-show-statistics", "--durations=0",
           f"{TEST}::test_{args.target}" if args.target else TEST]
    print(f"FUZZ_EXAMPLES={args.cases} {shlex.join(cmd)}", flush=True)
    started = time.monotonic()
    code = subprocess.call(cmd, cwd=REPO, env={**os.environ, "FUZZ_EXAMPLES": str(args.cases)})
    took = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KB on Linux
    print(f"fuzz_trust: {args.cases} cases per target, exit {code}, {took:.0f} s wall, "
          f"largest process {peak_kb / 1024:.0f} MB resident")
    return code


if __name__ == "__main__":
    sys.exit(main())
