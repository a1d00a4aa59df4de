"""Asking the API server again after a transient error, within a deadline, as client-go does.

A 5xx, a 429 (with its Retry-After) or a connection the server dropped says nothing about the
objects a check looks for. Reads retry with backoff until their deadline (a check's own
timeout), and what they finally report says how often the server failed — never "not found".
"""

from __future__ import annotations

import threading
import time

RETRY_BUDGET = 3.0     # seconds a plain read keeps retrying; checks retry until their own deadline
RETRY_FIRST = 0.1      # backoff: 0.1, 0.2, 0.4 ... seconds, at most RETRY_MAX
RETRY_MAX = 1.0
_COUNTS = {1: "once", 2: "twice"}


def _retry_text(errors: list, ended: bool) -> str:
    """'the API server answered 503 twice; still trying' (ended: '... when the time to wait ran out')."""
    last = errors[-1]
    what = f"answered {last.status}" if last.status is not None else "dropped the connection"
    same = sum(1 for e in errors if e.status == last.status)
    times = _COUNTS.get(same, f"{same} times")
    tail = "still trying when the time to wait ran out" if ended else "still trying"
    return f"the API server {what} {times}; {tail} ({last})"


class Retrier:
    """Ask again after transient errors until a deadline (backoff, Retry-After honoured)."""

    def __init__(self, deadline: float, cancel: threading.Event | None = None, on_retry=None):
        self.deadline, self.cancel, self.on_retry = deadline, cancel, on_retry
        self.errors: list = []

    def wait(self, exc) -> bool:
        """After a failed call: False (give up, raise) or True after sleeping (try again)."""
        if not exc.transient:
            return False
        self.errors.append(exc)
        pause = min(RETRY_MAX, RETRY_FIRST * 2 ** (len(self.errors) - 1))
        if exc.retry_after is not None:
            pause = max(pause, exc.retry_after)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or pause > remaining:
            return False
        if self.on_retry is not None:
            self.on_retry(_retry_text(self.errors, ended=False))
        if self.cancel is not None:
            return not self.cancel.wait(pause)
        time.sleep(pause)
        return True

    def final(self, exc):
        """The error to report once retrying stopped: it says how often the server failed."""
        if not exc.transient:
            return exc
        errors = self.errors if self.errors and self.errors[-1] is exc else [*self.errors, exc]
        return type(exc)(_retry_text(errors, ended=True), status=exc.status, reason=exc.reason,
                         body=exc.body, reset=exc.reset, retry_after=exc.retry_after)


def dropped(exc: Exception) -> bool:
    """A connection the server reset or closed mid-request (worth retrying), not a refused one."""
    text = f"{exc!r} {exc}"
    return any(s in text for s in ("Connection reset", "RemoteDisconnected", "ConnectionResetError",
                                   "Connection aborted", "IncompleteRead", "BrokenPipe"))


def retry_after(headers) -> float | None:
    try:
        value = (headers or {}).get("Retry-After")
        return min(float(value), 30.0) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def urllib3_retries():
    """urllib3's own retries, without its retries of 429/503. Left on, each request quietly sleeps
    through up to three Retry-After waits, past a check's deadline and deaf to its cancel, and the
    answers it swallowed go uncounted; the Retrier asks again instead, within the deadline. A
    refused or failed connection is still tried three times, as before."""
    from urllib3.util.retry import Retry

    return Retry(total=3, respect_retry_after_header=False)
