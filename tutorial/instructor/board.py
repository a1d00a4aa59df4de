"""`status --watch`: one row per cluster, each updated in place as soon as that cluster answers.

The board keeps every cluster's last status in a fixed order; a refresh replaces one row and
never blanks the others (a slow cluster keeps its last known row, marked as being checked again).
The view fits the terminal: when there are more clusters than lines (100 labs on 24 rows), the
clusters that need a look (unreachable, part-way through a step) come first, then the rest in
their usual order, and one line counts what is not shown. Rendering is Rich; Textual is never used.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from tutorial.instructor.status import ClusterStatus, StepCell

DRAW_SHARE = 4  # a redraw waits for this many times the CPU the last one took


@dataclass
class Row:
    """One cluster: its last status, and whether a fresh one is on its way."""

    status: ClusterStatus
    checking: bool = False
    changed_at: float = field(default_factory=time.monotonic)


class StatusBoard:
    """Rows of clusters in selection order; update() replaces one row, thread-safe."""

    def __init__(self, runs, pairs, *, title: str = "Lab clusters (Ctrl-C to stop)"):
        self.pairs, self.title = pairs, title
        self._lock = threading.Lock()
        self.version = 0  # bumped on every change: the display refreshes only when it moved
        self._fixed: tuple = (None, 0)  # (terminal size, lines that are not cluster rows)
        from tutorial.instructor.render import RowCache

        self.draw = RowCache()  # a redraw renders only the rows that changed
        self.rows: dict[str, Row] = {
            r.context: Row(ClusterStatus(r.context, r.cluster.server, True,
                                         cells=[StepCell(s.target, "queued") for _, s in pairs]), checking=True)
            for r in runs}

    def checking(self, context: str) -> None:
        """A fresh status of this cluster has been asked for (its row stays as it was)."""
        with self._lock:
            self.rows[context].checking = True
            self.version += 1

    def update(self, status: ClusterStatus) -> None:
        """This cluster's new status replaces its row (and only its row)."""
        with self._lock:
            row = self.rows[status.context]
            if _same(row.status, status):
                row.checking = False
            else:
                self.rows[status.context] = Row(status)
            self.version += 1

    def visible(self, room: int) -> tuple[list[ClusterStatus], list[ClusterStatus]]:
        """(rows to show, rows left out) for `room` table rows: those needing a look first."""
        with self._lock:
            rows = [(r.status, r.checking) for r in self.rows.values()]
        statuses = [st for st, _ in rows]
        if len(statuses) <= room:
            return statuses, []
        urgent = [st for st in statuses if _needs_look(st)]
        rest = [st for st in statuses if not _needs_look(st)]
        shown = (urgent + rest)[:max(1, room)]
        keep = {id(st) for st in shown}
        return [st for st in statuses if id(st) in keep], [st for st in statuses if id(st) not in keep]

    def render(self, out):
        """The view for a Rich Live display on console `out`: fits out.width and out.height."""
        from rich.console import Group
        from rich.text import Text

        from tutorial.instructor import render

        size = (out.width, out.height)
        if self._fixed[0] != size:  # the lines around the rows: title, header, legend (per terminal size)
            self._fixed = (size, _height(out, render.status_view(out, [], self.pairs, title=self.title)) + 1)
        fixed = self._fixed[1]
        shown, hidden = self.visible(max(1, out.height - fixed - 1))
        view = render.status_view(out, shown, self.pairs, title=self.title, draw=self.draw)
        return Group(view, Text(self._footer(shown, hidden), style="dim", no_wrap=True, overflow="ellipsis"))

    def _footer(self, shown, hidden) -> str:
        with self._lock:
            busy = sum(1 for r in self.rows.values() if r.checking)
        line = f"{len(self.rows)} clusters; {busy} being checked" if busy else f"{len(self.rows)} clusters, all checked"
        if hidden:
            places: dict[str, int] = {}
            for st in hidden:
                where = f"at {st.at}" if st.reachable and st.at else ("unreachable" if not st.reachable else "at the start")
                places[where] = places.get(where, 0) + 1
            summary = ", ".join(f"{n} {w}" for w, n in sorted(places.items(), key=lambda p: -p[1]))
            line += f"; {len(hidden)} more not shown ({summary}); a taller terminal shows them, --json lists all"
        return line


def _same(a: ClusterStatus, b: ClusterStatus) -> bool:
    return (a.reachable, a.error, [c.state for c in a.cells]) == (b.reachable, b.error, [c.state for c in b.cells])


def _needs_look(st: ClusterStatus) -> bool:
    return not st.reachable or bool(st.stuck_on)


def _height(out, renderable) -> int:
    return len(out.render_lines(renderable, out.options, pad=False))


def watch(board: StatusBoard, fleet, job, fallback, *, interval: float, stop: threading.Event, out,
          parallel: int, timeout: float | None) -> None:
    """Refresh every cluster's row until `stop` is set: each round asks all clusters at once and
    every answer lands in its row at once; the display redraws (in place) only when a row changed.
    job(run) -> ClusterStatus; fallback(run) -> the row of a cluster that could not be asked."""
    from rich.live import Live

    shown, next_draw = -1, 0.0
    with Live(console=out, auto_refresh=False, transient=False, vertical_overflow="crop") as live:
        live.update(board.render(out), refresh=True)
        while not stop.is_set():
            round_done = threading.Event()
            worker = threading.Thread(target=_round, args=(fleet, board, (job, fallback), parallel, timeout, round_done),
                                      name="status-round", daemon=True)
            worker.start()
            deadline = time.monotonic() + max(0.2, interval)
            while not stop.is_set() and (not round_done.is_set() or time.monotonic() < deadline):
                if board.version != shown and time.monotonic() >= next_draw:
                    shown, cpu = board.version, time.thread_time()
                    live.update(board.render(out), refresh=True)
                    # A redraw of 100 rows takes this thread ~0.1-0.2 s of CPU, with the GIL the
                    # clusters' threads need: redraw at most every 4x that (rows land in between).
                    next_draw = time.monotonic() + DRAW_SHARE * (time.thread_time() - cpu)
                stop.wait(0.1)
            if stop.is_set():
                fleet.stop()
                worker.join(5)


def _round(fleet, board: StatusBoard, jobs, parallel: int, timeout: float | None, done) -> None:
    """One refresh of every cluster; each result goes to the board as soon as it is in."""
    job, fallback = jobs

    def notify(run) -> None:
        if run.state == "running":
            board.checking(run.context)
        elif run.state != "queued":
            board.update(run.result if isinstance(run.result, ClusterStatus) else fallback(run))

    try:
        for run in fleet.runs:
            run.state, run.detail, run.timed_out, run.result = "queued", "", False, None
            run.cancel.clear()
        fleet.run(job, parallel=parallel, timeout=timeout, on_change=notify)
    finally:
        done.set()
