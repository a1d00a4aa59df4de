"""Log lines simulated workloads write while they serve (e.g. the echo backend), kept in memory.

Kept out of the store on purpose: a real pod does not change (no new resourceVersion, no watch
event) when it logs a request. `kubectl logs` shows them after the pod's own simulated log.
"""

from __future__ import annotations

import threading
from collections import deque

MAX_LINES = 5000
_LINES: dict[str, deque] = {}
_LOCK = threading.Lock()


def append(pod_uid: str, line: str) -> None:
    with _LOCK:
        _LINES.setdefault(pod_uid, deque(maxlen=MAX_LINES)).append(line)


def text(pod_uid: str) -> str:
    """The lines logged for this pod, newline-terminated ("" when none)."""
    with _LOCK:
        lines = list(_LINES.get(pod_uid) or ())
    return "".join(f"{line}\n" for line in lines)
