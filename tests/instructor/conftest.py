import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture
def fleet_lab(tmp_path, monkeypatch):
    """fleet_lab(count): in-process sandbox clusters lab01.. (fleetlab.in_process) with this test's
    own state directory; every lab it made is stopped when the test ends."""
    from fleetlab import in_process

    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    made = []

    def make(count: int):
        made.append(in_process(tmp_path, count))
        return made[-1]

    yield make
    for lab in made:
        lab.stop()
