"""Shared for the explain tests: the recorded-evidence builders on sys.path, and one sandbox that
runs the whole blog (set up once by the real lessons; tests that break it put it back)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def blog(tmp_path_factory):
    from lab import Lab

    lab = Lab(tmp_path_factory.mktemp("blog"))
    lab.engine.progress.set_variant("istio", "istioctl")
    try:
        lab.solve("reach-the-app/browse")
        yield lab
    finally:
        lab.stop()
