"""Listening loops that sleep until there is work: a connection wakes them, and so does stopping.

socketserver's serve_forever (like a select loop with a timeout) wakes every poll_interval only to
see whether it should stop: with 101 simulated clusters (an API server each, and the data plane's
listeners) that was some 500 wake-ups a second, ~12 ms of the serve process's CPU every second
while nothing happened. Here the loop also watches one end of a socket pair, and stopping writes
to the other.
"""

from __future__ import annotations

import selectors
import socket
import threading


class Waker:
    """A file descriptor a selector can watch, made readable by wake() (from any thread)."""

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)

    def fileno(self) -> int:
        return self._read.fileno()

    def wake(self) -> None:
        try:
            self._write.send(b"x")
        except OSError:
            pass  # already awake (buffer full) or closed

    def drain(self) -> None:
        """Read what wake() wrote, so the next select sleeps again."""
        try:
            while self._read.recv(4096):
                pass
        except OSError:
            pass  # nothing (more) to read, or closed

    def close(self) -> None:
        self._read.close()
        self._write.close()


class WakeableServer:
    """Mixin, before a socketserver server class: serve_forever blocks until a connection comes or
    shutdown() is called, instead of waking every poll_interval. Same contract as socketserver's."""

    _wake_lock = threading.Lock()

    def _wake_parts(self) -> tuple[threading.Event, threading.Event, Waker]:
        with self._wake_lock:
            if "_wakeable" not in self.__dict__:
                self.__dict__["_wakeable"] = (threading.Event(), threading.Event(), Waker())
            return self.__dict__["_wakeable"]

    def serve_forever(self, poll_interval: float = 0.5) -> None:  # poll_interval: unused, kept for callers
        stop, done, waker = self._wake_parts()
        done.clear()
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(self, selectors.EVENT_READ)
                sel.register(waker, selectors.EVENT_READ)
                while not stop.is_set():
                    ready = sel.select()
                    if stop.is_set():
                        break
                    if any(key.fileobj is waker for key, _ in ready):
                        waker.drain()  # a wake-up left over from an earlier shutdown
                    if any(key.fileobj is self for key, _ in ready):
                        self._handle_request_noblock()
                    self.service_actions()
        finally:
            stop.clear()
            done.set()

    def shutdown(self) -> None:
        """Stop the serve_forever loop and wait until it has (call it from another thread)."""
        stop, done, waker = self._wake_parts()
        stop.set()
        waker.wake()
        done.wait()

    def server_close(self) -> None:
        super().server_close()
        self.close_waker()

    def close_waker(self) -> None:
        """For a subclass whose server_close leaves its socket open (the data plane's bank owns it)."""
        self._wake_parts()[2].close()
