"""Lets the explain tests import their recorded-evidence builders (tests/explain/recorded.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
