"""One sandbox (per test session) runs the whole blog; each scenario breaks it with kubectl and puts it back."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def blog(tmp_path_factory):
    from maplab import MapLab

    lab = MapLab(tmp_path_factory.mktemp("map"))
    lab.engine.progress.set_variant("istio", "istioctl")
    try:
        lab.solve("reach-the-app/browse")
        yield lab
    finally:
        lab.stop()
