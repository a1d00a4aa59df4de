"""Do-it-yourself mode on a step screen: a banner saying what to do, and a worker watching the
cluster until the step's checks pass — no key pressed. `r` still runs the step for the learner.

The step screen calls `toggle(screen)` (key d) and `stop(screen)` when it goes away; the worker
reuses the screen's own event plumbing (its `_emit` and the StepFinished message).
"""

from __future__ import annotations

import threading
from functools import partial

from textual.content import Content
from textual.widgets import Static

from tutorial.ui.messages import StepFinished

BANNER = ("[b]Do it yourself[/b]: run the commands below in your own terminal (! shows how to set it "
          "up). The checks watch the cluster and turn ✔ by themselves as soon as it is right — no key "
          "needed. r runs them for you; d switches this off.")


def active(screen) -> bool:
    return getattr(screen, "_diy_cancel", None) is not None


def toggle(screen) -> None:
    stop(screen) if active(screen) else start(screen)


def start(screen) -> None:
    """Show the banner and start watching; a step without checks has nothing to watch."""
    if not screen.step.checks:
        screen.notify("This step has no checks to watch; read it, then n goes on.")
        return
    banner = BANNER
    if screen.engine.pack is not None and screen.engine.pack_check_commands(screen.step):
        # d is the learner's yes to the pack's check commands listed on this step, as r is
        screen.engine.confirm_pack_checks(screen.step)
        banner += " Watching runs this lesson pack's check commands shown below."
    cancel = threading.Event()
    screen._diy_cancel = cancel
    screen.app.track_cancel(cancel)
    body = screen.query_one("#step-body")
    body.mount(Static(Content.from_markup(banner), id="diy-banner"), before=0)
    _checks_title(screen, "watching the cluster: they pass as soon as you are done")
    screen.run_worker(partial(_watch, screen, cancel), thread=True, group="diy", name="diy")


def stop(screen) -> None:
    cancel = getattr(screen, "_diy_cancel", None)
    if cancel is None:
        return
    cancel.set()
    screen.app.untrack_cancel(cancel)
    screen._diy_cancel = None
    for banner in screen.query("#diy-banner"):
        banner.remove()
    _checks_title(screen, "c checks again without running")


def _checks_title(screen, words: str) -> None:
    for title in screen.query("#step-checks .part-title"):
        title.update(Content.from_markup("[b]Checks[/b] ($w)", w=words))


def _watch(screen, cancel: threading.Event) -> None:
    from tutorial.engine.diy import watch_step

    try:
        results = watch_step(screen.engine, screen.step, cancel, on_event=screen._emit)
    except Exception as exc:  # the cluster went away or a bug: say so, keep the screen
        screen.app.call_from_thread(screen.notify, f"Stopped watching: {exc}", severity="warning")
        return
    if results is not None:
        screen.post_message(StepFinished(screen.step.target, "check", True, results))
        screen.app.call_from_thread(stop, screen)
