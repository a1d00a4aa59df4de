"""The traffic map tests: this directory on sys.path (the `blog` lab is tests/conftest.py's)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
