"""Shared by every test directory: the sandbox lab (tests/sandboxlab.py) on sys.path, and one
sandbox per test session that runs the whole blog (set up once by the real lessons; tests that
break it put it back)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def blog(tmp_path_factory):
    from sandboxlab import blog_lab

    lab = blog_lab(tmp_path_factory.mktemp("blog"))
    try:
        yield lab
    finally:
        lab.stop()
