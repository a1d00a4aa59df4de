"""`status --watch`: rows change in place, one cluster at a time; 100 clusters fit 80x24 and stay readable."""

from __future__ import annotations

import io
import threading
import time

import pytest
from fleetlab import in_process
from rich.console import Console

from tutorial.commands._common import load_lesson_set
from tutorial.instructor.board import StatusBoard, watch
from tutorial.instructor.fleet import ClusterRun, Fleet
from tutorial.instructor.selection import FleetCluster
from tutorial.instructor.status import ClusterStatus, StepCell, cluster_status, status_steps, unreachable_status


class _Args:
    lessons = None


@pytest.fixture(scope="module")
def pairs():
    return status_steps(load_lesson_set(_Args()))


def _runs(n: int) -> list[ClusterRun]:
    return [ClusterRun(FleetCluster(f"lab{i:03d}", f"https://10.0.0.{i}", None)) for i in range(1, n + 1)]


def _status(context: str, pairs, done: int, *, reachable: bool = True, partial: bool = False) -> ClusterStatus:
    cells = []
    for i, (_, step) in enumerate(pairs):
        state = "done" if i < done else ("partial" if partial and i == done else "todo")
        cells.append(StepCell(step.target, state if reachable else "unknown"))
    return ClusterStatus(context, "https://x", reachable, error="" if reachable else "connection refused", cells=cells)


def _lines(board: StatusBoard, width: int = 80, height: int = 24) -> list[str]:
    out = Console(width=width, height=height, record=True, force_terminal=False, color_system=None,
                  file=io.StringIO())
    out.print(board.render(out))
    return out.export_text().splitlines()


def test_an_update_changes_only_that_clusters_row(pairs):
    board = StatusBoard(_runs(5), pairs)
    for run_ in range(1, 6):
        board.update(_status(f"lab{run_:03d}", pairs, 2))
    before = _lines(board, height=40)
    board.update(_status("lab003", pairs, 5))
    after = _lines(board, height=40)
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(changed) == 1 and "lab003" in changed[0][1]
    assert before.index(changed[0][0]) == after.index(changed[0][1])  # same line: in place


def test_a_row_being_checked_again_keeps_its_last_status(pairs):
    board = StatusBoard(_runs(2), pairs)
    board.update(_status("lab001", pairs, 4))
    board.checking("lab001")
    row = next(line for line in _lines(board, height=40) if "lab001" in line)
    assert "4/" in row  # still the last known answer, not blanked
    assert "being checked" in _lines(board, height=40)[-1]


def test_a_hundred_clusters_fit_eighty_by_twenty_four(pairs):
    board = StatusBoard(_runs(100), pairs)
    for i in range(1, 101):
        board.update(_status(f"lab{i:03d}", pairs, 6))
    board.update(_status("lab077", pairs, 0, reachable=False))
    board.update(_status("lab090", pairs, 3, partial=True))
    lines = _lines(board)
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    shown = [line for line in lines if "lab0" in line or "lab100" in line]
    assert any("lab077" in line for line in shown) and any("lab090" in line for line in shown)  # a look first
    assert any("lab001" in line for line in shown)
    assert "more not shown" in lines[-1] and "at " in lines[-1]
    hidden = 100 - len(shown)
    assert f"{hidden} more not shown" in lines[-1]


def test_watch_on_live_clusters_updates_rows_as_they_answer(tmp_path, pairs):
    lab = in_process(tmp_path, 3)
    lessons = load_lesson_set(_Args())
    clusters = [FleetCluster(c, s, str(lab.kubeconfig)) for c, s in lab.servers.items()]
    fleet = Fleet(clusters, lessons, state_dir=tmp_path / "state")
    board = StatusBoard(fleet.runs, pairs)
    stop, screen = threading.Event(), io.StringIO()
    out = Console(file=screen, width=80, height=24, force_terminal=True, color_system=None)
    thread = threading.Thread(target=watch, args=(board, fleet, lambda r: cluster_status(r, pairs),
                                                  lambda r: unreachable_status(r, pairs)),
                              kwargs=dict(interval=0.2, stop=stop, out=out, parallel=8, timeout=20), daemon=True)
    thread.start()
    try:
        _until(lambda: all(not r.checking and r.status.cells[0].state != "queued" for r in board.rows.values()))
        first = {c: [cell.state for cell in r.status.cells] for c, r in board.rows.items()}
        lab.kubectl("lab02", "create", "namespace", "emojivoto")
        step = next(i for i, (_, s) in enumerate(pairs) if s.target == "emojivoto/namespace")
        _until(lambda: board.rows["lab02"].status.cells[step].state == "done")
        assert first["lab02"][step] != "done"
        assert [c.state for c in board.rows["lab01"].status.cells] == first["lab01"]
    finally:
        stop.set()
        thread.join(30)
        fleet.close()
        lab.stop()
    assert not thread.is_alive()
    drawn = screen.getvalue()
    assert "lab01" in drawn and "lab03" in drawn
    assert "\x1b[1A" in drawn or "\x1b[A" in drawn or "\x1b[2K" in drawn  # redrawn in place (cursor moves up)


def _until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the board never got there"
        time.sleep(0.05)


def test_a_cluster_not_answered_yet_says_checking_not_at_the_start(pairs):
    board = StatusBoard(_runs(3), pairs)
    board.update(_status("lab002", pairs, 0))
    lines = {line.split()[1]: line for line in _lines(board, width=100, height=40) if " lab00" in line}
    assert "checking…" in lines["lab001"] and "/" not in lines["lab001"].split("│")[4]  # no done count yet
    assert "at the start" in lines["lab002"] and "0/" in lines["lab002"]


def _drawn(statuses, pairs, width: int, draw=None) -> str:
    from tutorial.instructor import render

    out = Console(width=width, height=60, record=True, force_terminal=True, color_system="truecolor",
                  file=io.StringIO())
    kwargs = {"draw": draw} if draw is not None else {}
    out.print(render.status_view(out, statuses, pairs, **kwargs))
    return out.export_text(styles=True)


@pytest.mark.parametrize("width", [80, 120, 260])
def test_rows_kept_between_redraws_draw_what_the_whole_table_draws(pairs, width):
    from tutorial.instructor.render import RowCache

    statuses = [_status(f"lab{i:03d}", pairs, i % 9, reachable=i % 7 != 0, partial=i % 3 == 0) for i in range(1, 30)]
    statuses.append(_status("a-much-longer-context-name-than-the-rest/lab-030", pairs, 4))
    cache = RowCache()
    whole = _drawn(statuses, pairs, width)
    assert _drawn(statuses, pairs, width, cache) == whole  # colours and borders included
    assert _drawn(statuses, pairs, width, cache) == whole  # drawn again from the kept rows
    statuses[4] = _status("lab005", pairs, 8)
    assert _drawn(statuses, pairs, width, cache) == _drawn(statuses, pairs, width)


def test_a_redraw_renders_only_the_rows_that_changed(pairs):
    board = StatusBoard(_runs(40), pairs)
    for i in range(1, 41):
        board.update(_status(f"lab{i:03d}", pairs, i % 6))
    _lines(board, width=220, height=60)
    kept = len(board.draw.rows)
    board.update(_status("lab007", pairs, 9))
    _lines(board, width=220, height=60)
    assert len(board.draw.rows) == kept + 1
