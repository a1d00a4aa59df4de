"""The 10,000-case version of tests/lessons/test_fuzz_trust.py (lesson files, progress files and
journal ConfigMaps from outside): `python bench/fuzz_trust.py [CASES]`. Same fixed seed and the
same per-case limits (2 s, 200 MB); CI runs 60 cases per target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    cases = sys.argv[1] if len(sys.argv) > 1 else "10000"
    env = {**os.environ, "FUZZ_EXAMPLES": cases}
    return subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2",
                            "tests/lessons/test_fuzz_trust.py"], cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main())
