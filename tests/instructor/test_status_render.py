"""The status matrix as an instructor reads it: a column per step (symbol and word) where the
terminal is wide enough, else the compact view that fits 80 columns without losing the meaning."""

from __future__ import annotations

import pytest
from rich.console import Console

from tutorial.instructor import render
from tutorial.instructor.status import ClusterStatus, StepCell, status_steps
from tutorial.lessons.loader import load_lessons
from tutorial.paths import assets_dir, lessons_dir


@pytest.fixture(scope="module")
def pairs():
    return status_steps(load_lessons(lessons_dir(), assets_dir()))


def _statuses(pairs):
    targets = [s.target for _, s in pairs]
    done_to = targets.index("gateway/apply-gateway")
    ahead = ClusterStatus("lab01", "https://a", True, cells=[
        StepCell(t, "n/a" if "istioctl" in t or "ingress-namespace" in t else ("done" if i <= done_to else "todo"))
        for i, t in enumerate(targets)])
    stuck = ClusterStatus("lab02-with-a-long-name", "https://b", True, cells=[
        StepCell(t, "done" if i < 2 else ("partial" if t == "emojivoto/deploy" else "todo"))
        for i, t in enumerate(targets)])
    down = ClusterStatus("lab03", "https://c", False, error="connection refused",
                         cells=[StepCell(t, "unknown") for t in targets])
    return [ahead, stuck, down]


def _render(width: int, pairs) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(render.status_view(console, _statuses(pairs), pairs))
    return console.export_text()


def test_eighty_columns_get_the_compact_view(pairs):
    text = _render(80, pairs)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    # the long name is cut from the left to fit (how much depends on the number of steps)
    row = {name: next(line for line in lines if name in line) for name in ("lab01", "long-name", "lab03")}
    assert "4.1" not in row["lab01"]
    ahead = _statuses(pairs)[0]
    counted = [c for c in ahead.cells if c.state != "n/a"]
    assert "✔ yes" in row["lab01"] and "at gateway/apply-gateway" in row["lab01"]
    assert f"{sum(c.state == 'done' for c in counted)}/{len(counted)}" in row["lab01"]  # n/a steps not counted
    assert "◐" in row["long-name"] and "on emojivoto/deploy" in row["long-name"]
    assert "? no" in row["lab03"] and "unreachable" in row["lab03"]
    # the symbols are explained in words, and so are the lesson numbers over the strip
    assert "✔ done  ◐ partial  · todo  – n/a  ? unknown" in text
    assert "0 before-you-start" in text and "6 reach-the-app" in text


def test_a_wide_terminal_gets_a_column_per_step_with_words(pairs):
    text = _render(260, pairs)
    assert "✔ done" in text and "◐ partial" in text and "? unknown" in text
    assert "5.1 httproute/apply-route" in text  # the legend under the matrix
    assert "one symbol per step" not in text and "lab02-with-a-long-name" in text


def test_legend_wraps_between_entries_only():
    entries = [f"{i}.1 lesson-number-{i}/step" for i in range(8)]
    lines = render.legend_lines(entries, 40).splitlines()
    assert all(len(line) <= 40 for line in lines)
    assert "  ".join(lines).split("  ") == entries  # no entry was cut
