"""Rich output of the fleet commands: every state has a symbol and a word, never colour alone."""

from __future__ import annotations

from functools import lru_cache

from tutorial.commands._render import MARKS as LEARNER_MARKS
from tutorial.commands._render import mark as learner_mark

MARKS = dict(LEARNER_MARKS)
MARKS.update({
    "partial": ("◐", "partial", "yellow"),
    "n/a": ("–", "n/a", "dim"),
    "unknown": ("?", "unknown", "yellow"),
    "ok": ("✔", "ok", "green"),
    "queued": ("·", "queued", "dim"),
    "cancelled": ("■", "cancelled", "yellow"),
    "timeout": ("⌛", "timeout", "red"),
    "present": ("✘", "delete", "red"),
    "deleted": ("✔", "deleted", "green"),
    "gone": ("·", "already gone", "dim"),
    "replaced": ("↷", "kept", "yellow"),
    "kept": ("↷", "keep", "yellow"),
    "refused": ("⊘", "refused", "magenta"),
})


REACH = {True: "[green]✔ yes[/]", False: "[yellow]? no[/]"}


def mark(state: str) -> str:
    return learner_mark(state, MARKS)


def wide_console():
    """A console as wide as a terminal allows; when output is not a terminal, wide enough for the matrix."""
    from rich.console import Console

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=max(out.width, 220))
    return out


def _text(markup: str):
    """A cell's Text from markup, parsed once per distinct markup (a matrix of 100 clusters has
    ~1,700 cells of a dozen kinds; Rich would parse each again on every render)."""
    return _parsed(markup).copy()


@lru_cache(maxsize=256)
def _parsed(markup: str):
    from rich.text import Text

    return Text.from_markup(markup)


def _table(title: str, headers: list[str], rows: list[list], columns: dict[int, dict] | None = None):
    """A Rich Table of Text cells whose columns have fixed widths, each as wide as its widest cell
    (what Rich would measure, cell by cell, on every render: most of the time of a big matrix)."""
    return _build(title, _columns(headers, rows, columns), rows)


def _columns(headers: list[str], rows: list[list], columns: dict[int, dict] | None) -> tuple:
    """((header, column options), ...) with every width fixed."""
    out = []
    for i, header in enumerate(headers):
        options = {"no_wrap": True, **(columns or {}).get(i, {})}
        widest = max([_parsed(header).cell_len, options.pop("min_width", 0)] + [row[i].cell_len for row in rows])
        options.setdefault("width", widest)
        out.append((header, tuple(sorted(options.items()))))
    return tuple(out)


def _build(title: str | None, columns: tuple, rows: list[list], *, show_header: bool = True):
    from rich.table import Table

    table = Table(title=title, show_lines=False, show_header=show_header)
    for header, options in columns:
        table.add_column(header, **dict(options))
    for row in rows:
        table.add_row(*row)
    return table


class RowCache:
    """Draws the status tables from rendered rows kept between redraws (status --watch).

    A watched fleet redraws often and few rows change between two redraws; Rich would lay out
    every cell of every row each time. The rows here are rendered one at a time, as a one-row
    table with the same fixed-width columns (the same line the whole table would hold), and
    kept while their content, the columns and the width stay the same; the title, header and
    borders likewise. Use an instance as `draw` for status_view.
    """

    def __init__(self) -> None:
        self.rows: dict = {}
        self.frames: dict = {}

    def __call__(self, title: str, headers: list[str], rows: list[list], columns: dict[int, dict] | None = None):
        if len(self.rows) > 4 * max(64, len(rows)):  # old contents of rows that changed since
            self.rows.clear()
        return _CachedTable(self, title, _columns(headers, rows, columns), rows)


class _CachedTable:
    def __init__(self, cache: RowCache, title: str, columns: tuple, rows: list[list]) -> None:
        self.cache, self.title, self.columns, self.cells = cache, title, columns, rows

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement.get(console, options, _build(self.title, self.columns, []))

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        key = (options.max_width, self.title, self.columns)
        frame = self.cache.frames.get(key)
        if frame is None:
            lines = console.render_lines(_build(self.title, self.columns, []), options, pad=False)
            frame = self.cache.frames[key] = (lines[:-1], lines[-1:])
        body = []
        for row in self.cells:
            row_key = (key, tuple((t.plain, str(t.style), tuple(t.spans), t.justify) for t in row))
            lines = self.cache.rows.get(row_key)
            if lines is None:
                one = _build(None, self.columns, [row], show_header=False)
                lines = self.cache.rows[row_key] = console.render_lines(one, options, pad=False)[1:-1]
            body.extend(lines)
        new_line = Segment.line()
        for line in [*frame[0], *body, *frame[1]]:
            yield from line
            yield new_line


def matrix(statuses, pairs, *, title: str = "Lab clusters", draw=_table):
    """Clusters x steps, one cell per step, plus reachability and the furthest step reached."""
    from rich.text import Text

    numbers = step_numbers(pairs)
    headers = ["cluster", "reachable", *(numbers[step.target] for _, step in pairs), "at"]
    rows = [[Text(st.context), _text(REACH[st.reachable]), *(_text(mark(c.state)) for c in st.cells),
             Text(st.at or "(start)" if st.reachable else "")] for st in statuses]
    return draw(title, headers, rows)


def status_view(out, statuses, pairs, *, title: str = "Lab clusters", draw=_table):
    """The matrix, or on a terminal too narrow for it (80 columns cannot hold 13 steps with
    their words) the compact view: one symbol per step, a legend for the symbols, and the
    words in a `where` column. Returns a renderable for out.print or a Live display.
    `draw` makes the table (a RowCache keeps rendered rows between redraws)."""
    from rich.console import Group
    from rich.measure import Measurement
    from rich.text import Text

    full = matrix(statuses, pairs, title=title, draw=draw)
    if Measurement.get(out, out.options.update_width(10_000), full).maximum <= out.width:
        return Group(full, Text(legend_lines(legend(pairs), out.width), style="dim"))
    return Group(compact(statuses, pairs, title=title, width=out.width, draw=draw),
                 Text(legend_lines(compact_legend(pairs), out.width), style="dim"))


def compact(statuses, pairs, *, title: str = "Lab clusters", width: int = 80, draw=_table):
    """Clusters as rows: reachability, a strip of one symbol per step (grouped by lesson), how
    many steps are done, and where the cluster is in words."""
    from rich.text import Text

    groups = _lesson_sizes(pairs)
    header = "".join(f"{i:<{size + 1}}" for i, size in enumerate(groups)).rstrip()
    strip_width = max(sum(groups) + len(groups) - 1, len(header))
    others = 5 + strip_width + 5 + 5 * 2 + 6  # reach, strip, done, cell padding, borders
    longest = max((len(st.context) for st in statuses), default=7)
    name_width = max(7, min(longest, width - others - 24))  # "where" keeps 24 columns
    rows = []
    for st in statuses:
        strip, i = [], 0
        for size in groups:
            strip.append("".join(_symbol(c.state) for c in st.cells[i:i + size]))
            i += size
        counted = [c for c in st.cells if c.state != "n/a"]
        done = f"{sum(1 for c in counted if c.state == 'done')}/{len(counted)}" if st.reachable else ""
        done = "" if _unanswered(st) else done
        rows.append([Text(_fit(st.context, name_width)), _text(REACH[st.reachable]), _text(" ".join(strip)),
                     Text(done), Text(_where(st))])
    return draw(title, ["cluster", "reach", header, "done", "where"], rows, {
        0: {"width": name_width}, 1: {"min_width": 5}, 2: {"min_width": strip_width},
        3: {"justify": "right", "min_width": 5},
        4: {"overflow": "ellipsis", "width": min(60, max(12, width - others - name_width))}})


def _fit(name: str, width: int) -> str:
    """Context names differ at their end (…cluster/lab-07): shorten from the left."""
    return name if len(name) <= width else "…" + name[-(width - 1):]


def _unanswered(st) -> bool:
    """`status --watch` before a cluster's first answer: its row holds only queued cells."""
    return bool(st.cells) and all(c.state == "queued" for c in st.cells)


def _where(st) -> str:
    if _unanswered(st):
        return "checking…"
    if not st.reachable:
        return "unreachable (see below)"
    if st.stuck_on:
        return f"on {st.stuck_on}"
    return f"at {st.at}" if st.at else "at the start"


def _symbol(state: str) -> str:
    symbol, _, colour = MARKS.get(state, ("?", state, "white"))
    return f"[{colour}]{symbol}[/]"


def _lesson_sizes(pairs) -> list[int]:
    sizes: dict[str, int] = {}
    for lesson, _ in pairs:
        sizes[lesson.id] = sizes.get(lesson.id, 0) + 1
    return list(sizes.values())


def compact_legend(pairs) -> list[str]:
    symbols = "  ".join(f"{MARKS[s][0]} {MARKS[s][1]}" for s in ("done", "partial", "todo", "n/a", "unknown"))
    lessons = list(dict.fromkeys(lesson.id for lesson, _ in pairs))
    return [symbols, "\n", "lessons:", *(f"{i} {name}" for i, name in enumerate(lessons)), "\n",
            "where: at = done up to that step, on = partly done there;",
            "one symbol per step (a wider terminal, or --json, shows a column per step)"]


def legend_lines(entries: list[str], width: int) -> str:
    """Entries joined by two spaces, wrapped between entries (a step number stays with its name);
    an entry "\n" starts a new line."""
    lines, line = [], ""
    for entry in entries:
        if entry == "\n":
            lines.append(line)
            line = ""
        elif line and len(line) + 2 + len(entry) > width:
            lines.append(line)
            line = entry
        else:
            line = f"{line}  {entry}" if line else entry
    if line:
        lines.append(line)
    return "\n".join(lines)


def step_numbers(pairs) -> dict[str, str]:
    """'2.1'-style numbers: lesson order . step position (what the matrix headers show)."""
    out, lessons = {}, []
    for lesson, step in pairs:
        if lesson.id not in lessons:
            lessons.append(lesson.id)
        index = sum(1 for t in out if t.split("/", 1)[0] == lesson.id) + 1
        out[step.target] = f"{lessons.index(lesson.id)}.{index}"
    return out


def legend(pairs) -> list[str]:
    numbers = step_numbers(pairs)
    return [f"{numbers[s.target]} {s.target}" for _, s in pairs]


def summary(runs, *, title: str, extra=None):
    """One row per cluster: outcome (symbol + word), time taken, and what happened or why not."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for col in ("cluster", "result", "time", "detail"):
        table.add_column(col, overflow="fold")
    for run in runs:
        detail = extra(run) if extra else run.detail
        table.add_row(escape(run.context), mark(run.state), f"{run.elapsed:.1f} s", escape(detail or ""))
    return table


def errors(out, runs) -> None:
    """Below the table: every cluster that did not make it, with the full reason."""
    from rich.markup import escape

    bad = [r for r in runs if r.state not in ("ok",)]
    for run in bad:
        out.print(f"{mark(run.state)} [bold]{escape(run.context)}[/] ({escape(run.cluster.server)}): "
                  f"{escape(run.detail or '')}")
