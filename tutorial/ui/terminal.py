"""Noticing that the learner's terminal went away: its window closed, ssh dropped, tmux killed.

Textual's LinuxDriver does not: after a hang-up its input thread reads end-of-file in a loop
(about half a core, for hours, as an orphaned TUI did), and the first write that fails with EIO
ends its writer thread, after which the app blocks on the writer's full queue. TerminalDriver
adds what a terminal program needs: SIGHUP, a hung-up terminal (POLLHUP on stdin or the output,
on Linux) and a failed write all call app.terminal_gone(reason) once, on the app's event loop. From then
on stdin, stdout and stderr are /dev/null, so the app, its children and Python's own shutdown
can still write, and the app leaves the way `q` does (commands stopped, progress kept, the
embedded sandbox stopped).
"""

from __future__ import annotations

import asyncio
import os
import select
import signal
import sys
import threading

from textual.drivers.linux_driver import LinuxDriver

WATCH_INTERVAL_MS = 500  # a poll() for POLLHUP every half second: nothing to read, no CPU to speak of
_GONE = select.POLLHUP | select.POLLERR
# poll() answers for terminals as documented on Linux; macOS's has reported POLLNVAL for devices,
# so elsewhere SIGHUP and a failed write tell (a hung-up terminal there is only seen on writing)
WATCH_POLL = sys.platform.startswith("linux")


class _TerminalFile:
    """The driver's output file: a write that fails (EIO after a hang-up) reports the terminal
    gone instead of ending Textual's writer thread; later writes go nowhere."""

    def __init__(self, file, gone) -> None:
        self._file, self._gone, self.dead = file, gone, False

    def write(self, text: str) -> None:
        if not self.dead:
            try:
                self._file.write(text)
            except OSError as exc:
                self._died(exc)

    def flush(self) -> None:
        if not self.dead:
            try:
                self._file.flush()
            except OSError as exc:
                self._died(exc)

    def _died(self, exc: OSError) -> None:
        self.dead = True
        self._gone(f"writing to the terminal failed ({exc.strerror or exc})")

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()

    def __getattr__(self, name):
        return getattr(self._file, name)


class TerminalDriver(LinuxDriver):
    """LinuxDriver that notices its terminal going away (see the module's docstring)."""

    def __init__(self, app, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reported = threading.Event()
        self._stop_watch = threading.Event()
        self._file = _TerminalFile(self._file, self._gone)

    def start_application_mode(self) -> None:
        self._loop = asyncio.get_running_loop()  # the app's loop: called from it
        self._loop.add_signal_handler(signal.SIGHUP, self._gone, "the terminal hung up (SIGHUP)")
        fds = sorted({fd for fd in (self.fileno, self._file.fileno()) if os.isatty(fd)}) if WATCH_POLL else []
        self._stop_watch = stop = threading.Event()  # a fresh one: start follows stop after Ctrl-Z
        if fds:
            threading.Thread(target=self._watch, args=(fds, stop), name="terminal-watch", daemon=True).start()
        super().start_application_mode()

    def stop_application_mode(self) -> None:
        self._stop_watch.set()
        super().stop_application_mode()

    def _watch(self, fds: list[int], stop: threading.Event) -> None:
        """POLLHUP or POLLERR on the terminal: it went away (nothing else is asked for)."""
        poller = select.poll()
        for fd in fds:
            poller.register(fd, 0)
        while not stop.is_set():
            if any(mask & _GONE for _, mask in poller.poll(WATCH_INTERVAL_MS)):
                self._gone("the terminal hung up")
                return

    def _gone(self, reason: str) -> None:
        """Once, from any thread: stdin/stdout/stderr to /dev/null, then the app leaves."""
        if self._reported.is_set():
            return
        self._reported.set()
        self._stop_watch.set()
        _detach_from_terminal()
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._app.terminal_gone, reason)
            except RuntimeError:  # the loop closed meanwhile: the app is already leaving
                pass


def _detach_from_terminal() -> None:
    """Point fds 0-2 at /dev/null: reads end, writes succeed, nothing blocks on a dead terminal."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    finally:
        os.close(null)


def driver_class(default: type) -> type:
    """TerminalDriver where Textual would use its LinuxDriver; otherwise Textual's own choice."""
    return TerminalDriver if default is LinuxDriver else default
