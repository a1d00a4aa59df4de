"""A watch on the sandbox store: the (type, object) events of one filter, queued as they happen.

The store offers each change to every open Watch inside its lock (a cheap queue put); the API
server's watch streams read them (api/watchstream.py).
"""

from __future__ import annotations

import queue
from typing import Any

from tutorial.sandbox.storage.objects import GR
from tutorial.sandbox.storage.selectors import Selector


class Watch:
    """A stream of (type, obj) events for one filter; .next(timeout) returns None on timeout. Each obj
    is a new top-level dict sharing the stored object's parts: set its top-level keys, change nothing below."""

    def __init__(self, store: Any, gr: GR | None, namespace: str | None,
                 labels: Selector, fields: Selector):
        self._store, self.gr, self.namespace = store, gr, namespace
        self._labels, self._fields = labels, fields
        self._queue: queue.Queue = queue.Queue()
        self.closed = False

    def _matches(self, gr: GR, obj: dict | None) -> bool:
        if obj is None or (self.gr is not None and gr != self.gr):
            return False
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        return self._labels.matches_labels(meta.get("labels") or {}) and self._fields.matches_object(obj)

    def _offer(self, type_: str, gr: GR, obj: dict, old: dict | None) -> None:
        """Queue the event as this watcher sees it (an object leaving the filter is DELETED)."""
        now, before = self._matches(gr, obj), self._matches(gr, old)
        if type_ == "MODIFIED" and not now and before:
            type_, now = "DELETED", True
        elif type_ == "MODIFIED" and now and not before and old is not None:
            type_ = "ADDED"
        if now:
            self._queue.put((type_, dict(obj)))

    def next(self, timeout: float | None = None) -> tuple[str, dict] | None:
        """The next (type, obj), or None after timeout seconds or once closed."""
        if self.closed:
            return None
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return item

    def close(self) -> None:
        """Stop receiving events; a blocked next() returns None."""
        if not self.closed:
            self.closed = True
            self._store._remove_watch(self)
            self._queue.put(None)

    def __iter__(self):
        while not self.closed:
            item = self.next()
            if item is None:
                return
            yield item
