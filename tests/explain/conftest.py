"""The explain tests: the recorded-evidence builders on sys.path (the `blog` lab is tests/conftest.py's)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
