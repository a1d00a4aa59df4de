"""Log lines simulated workloads write while they serve (e.g. the echo backend), kept in memory.

Kept out of the store on purpose: a real pod does not change (no new resourceVersion, no watch
event) when it logs a request. podlogs.py merges them into `kubectl logs` by their time.
"""

from __future__ import annotations

import datetime
import threading
from collections import deque

MAX_LINES = 5000
_LINES: dict[str, deque] = {}
_LOCK = threading.Lock()


def append(pod_uid: str, line: str) -> None:
    stamp = datetime.datetime.now(datetime.timezone.utc)
    with _LOCK:
        _LINES.setdefault(pod_uid, deque(maxlen=MAX_LINES)).append((stamp, line))


def lines(pod_uid: str) -> list[tuple[datetime.datetime, str]]:
    """The (time, line) pairs logged for this pod, oldest first."""
    with _LOCK:
        return list(_LINES.get(pod_uid) or ())
