"""The pieces of a step: YAML, commands, checks with live state, explanation, hints."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical
from textual.content import Content
from textual.highlight import highlight
from textual.widgets import Label, Markdown, Static

from tutorial.ui.marks import check_mark


class ManifestView(Vertical):
    """One YAML manifest, syntax highlighted, that `y` copies to the clipboard."""

    def __init__(self, title: str, text: str, **kwargs):
        super().__init__(**kwargs)
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        yield Label(Content.from_markup("[b]YAML[/b] · $title   [dim](y copies it)[/dim]", title=self.title_text),
                    classes="part-title")
        # YAML never wraps (a wrapped key reads as another key): a narrow body scrolls it sideways
        with HorizontalScroll(classes="yaml-scroll"):
            yield Static(highlight(self.text.rstrip("\n"), language="yaml"), classes="yaml")


class StepCommands(Vertical):
    """The commands exactly as they will run (shown-only ones marked as such).

    Not named CommandList: Textual's command palette has a widget of that name whose CSS
    (`CommandList { visibility: hidden }`) would hide this one once the palette has been opened.
    """

    def __init__(self, commands: list, heading: str = "Commands (r runs them, in this order)", **kwargs):
        super().__init__(**kwargs)
        self.commands, self.heading = commands, heading

    def compose(self) -> ComposeResult:
        yield Label(Content.from_markup("[b]$heading[/b]", heading=self.heading), classes="part-title")
        if not self.commands:
            yield Static("This step has no commands: read, then check.", classes="command")
        for prepared in self.commands:
            note = "  # shown only, never run" if prepared.show_only else ""
            if prepared.title:
                yield Static(Content(f"# {prepared.title}"), classes="command-title")
            yield Static(Content(f"$ {prepared.display}{note}"),
                         classes="command -show-only" if prepared.show_only else "command")


CommandList = StepCommands  # the name screens import; the class name is what CSS matches


class CheckList(Vertical):
    """Each check with its live state (not run, waiting, passed, failed) and what it observed."""

    def __init__(self, checks, **kwargs):
        super().__init__(**kwargs)
        self.checks = list(checks)

    def compose(self) -> ComposeResult:
        yield Label(Content.from_markup("[b]Checks[/b] (c checks again without running)"), classes="part-title")
        if not self.checks:
            yield Static("This step has no checks.", classes="check")
        for chk in self.checks:
            with Vertical(id=f"check-{chk.id}", classes="check -idle"):
                yield Static(Content(f"{check_mark('idle')} {chk.title}"), classes="check-title")
                yield Static("", classes="check-observed")

    def set_state(self, check_id: str, state: str, observed: str = "") -> None:
        title = next((c.title for c in self.checks if c.id == check_id), check_id)
        row = self.query_one(f"#check-{check_id}", Vertical)
        row.query_one(".check-title", Static).update(Content(f"{check_mark(state)} {title}"))
        row.query_one(".check-observed", Static).update(Content(observed))
        row.query_one(".check-observed").display = bool(observed)
        for cls in ("-idle", "-waiting", "-passed", "-failed", "-yours", "-unreachable"):
            row.remove_class(cls)
        row.add_class(f"-{state}")

    def set_all(self, state: str) -> None:
        self.watching = {}
        for chk in self.checks:
            self.set_state(chk.id, state)

    watching: dict = {}

    def observe(self, check_id: str, text: str, since: float) -> None:
        """A waiting check's live observation; `tick` keeps its "for N s" current."""
        if not any(c.id == check_id for c in self.checks):
            return
        self.watching = {**self.watching, check_id: (text, since)}
        self.tick()

    def tick(self) -> None:
        import time

        now = time.monotonic()
        for check_id, (text, since) in self.watching.items():
            row = self.query_one(f"#check-{check_id}", Vertical)
            if row.has_class("-waiting"):
                line = row.query_one(".check-observed", Static)
                line.update(Content(f"now: {text}, for {max(0, int(now - since))} s"))
                line.display = True

    def finish(self, check_id: str) -> None:
        self.watching = {k: v for k, v in self.watching.items() if k != check_id}


class ExplanationPanel(Vertical):
    """Why a check failed: what we saw, why it happens, how to fix (the fix runnable with `f`).

    Takes a plain dict or object with title, observed, why, fix, fix_command (argv or None).
    """

    fix_command: list[str] | None = None
    _in_view = False  # shown: kept in view while its parts lay out (Markdown sizes itself later)

    def show(self, explanation, note: str | None = None) -> None:
        get = explanation.get if isinstance(explanation, dict) else (lambda k, d=None: getattr(explanation, k, d))
        argv = get("fix_command")
        self.fix_command = list(argv) if isinstance(argv, (list, tuple)) and argv else None
        self.remove_children()
        self.mount_all(self.parts(explanation, note))
        self.display = True
        self._in_view = True

    def on_resize(self) -> None:
        """Its parts grew (a busy machine lays Markdown out a few frames late): still all in view."""
        if self._in_view:
            self.call_after_refresh(self.scroll_visible, animate=False)

    @staticmethod
    def parts(explanation, note: str | None = None) -> list:
        """The panel's widgets for an explanation (a dict or an ExplanationView): pure, so a test can
        build them for any explanation without running the app."""
        get = explanation.get if isinstance(explanation, dict) else (lambda k, d=None: getattr(explanation, k, d))
        parts = [Static(Content.from_markup("[b]✘ $title[/b]", title=str(get("title") or "A check failed")),
                        classes="part-title")]
        if note:
            parts.append(Static(Content.from_markup("[dim]$note[/dim]", note=note)))
        observed = get("observed")
        if observed:
            lines = [observed] if isinstance(observed, str) else [str(line) for line in observed]
            parts.append(Label(Content.from_markup("[b]What we saw:[/b]")))
            parts.extend(Static(Content(f"  {line}"), classes="observed") for line in lines)
        for heading, key in (("Why", "why"), ("How to fix", "fix")):
            if get(key):
                parts.append(Markdown(f"**{heading}:** {str(get(key)).strip()}", classes="explain-part"))
        argv = get("fix_command")
        if isinstance(argv, (list, tuple)) and argv:
            from shlex import join

            parts.append(Static(Content(f"$ {join(str(a) for a in argv)}"), classes="command"))
            parts.append(Static(Content.from_markup("[dim]f runs this fix (it asks first)[/dim]")))
        return parts

    def hide(self) -> None:
        self.fix_command = None
        self._in_view = False
        self.remove_children()
        self.display = False


class HintList(Vertical):
    """Hints revealed one at a time, gentle first."""

    def __init__(self, hints: list[str], **kwargs):
        super().__init__(**kwargs)
        self.hints, self.shown = list(hints), 0

    def compose(self) -> ComposeResult:
        yield Label(self._heading(), classes="part-title", id="hint-heading")

    def _heading(self) -> Content:
        if not self.hints:
            return Content.from_markup("[b]Hints[/b]: none for this step")
        if self.shown < len(self.hints):
            return Content.from_markup(f"[b]Hints[/b]: {self.shown} of {len(self.hints)} shown (h shows the next)")
        return Content.from_markup(f"[b]Hints[/b]: all {len(self.hints)} shown")

    def reveal(self) -> bool:
        """Show the next hint; False when there is none left."""
        if self.shown >= len(self.hints):
            return False
        self.shown += 1
        self.mount(Markdown(f"**{self.shown}.** {self.hints[self.shown - 1]}", classes="hint"))
        self.query_one("#hint-heading", Label).update(self._heading())
        return True
