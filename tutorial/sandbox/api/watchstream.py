"""Watch streams of the sandbox API server: chunked newline-delimited JSON events, with bookmarks.

A stream ends at timeoutSeconds, on a dropped-watch fault, when the server stops or when the
client goes away (noticed between events, so the thread is freed at once).
"""

from __future__ import annotations

import json
import select
import socket
import time
from typing import Any

from tutorial.sandbox.api import tables
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, accepts, out, status_body
from tutorial.sandbox.storage.objects import StoreError

BOOKMARK_INTERVAL = 5.0
DEFAULT_WATCH_SECONDS = 1800


def _event_line(type_: str, obj: dict) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _watch_line(h: Handler, req: Request, type_: str, obj: dict) -> bytes:
    """One watch event; `kubectl get -w` asks for each object as a one-row Table."""
    obj = out(req, obj)
    if accepts(h, "Table"):
        obj = tables.build_table(req.rt, [obj], obj["metadata"].get("resourceVersion"))
    return _event_line(type_, obj)


def _watch_params(req: Request) -> tuple[float, int | None, dict]:
    """(timeout seconds, resourceVersion to start after or None, selectors) from the query; 400 if bad."""
    try:
        timeout = float(req.q("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        rv_param = req.q("resourceVersion")
        since = int(rv_param) if rv_param not in ("", "0") else None
    except ValueError:
        raise ApiError(400, "BadRequest", "resourceVersion and timeoutSeconds must be numbers") from None
    selectors = {"label_selector": req.q("labelSelector") or None, "field_selector": req.q("fieldSelector") or None}
    return timeout, since, selectors


def do_watch(h: Handler, req: Request) -> None:
    """Newline-delimited JSON events until timeoutSeconds, a dropped-watch fault or server stop."""
    api, store = h.api, h.api.store
    timeout, since, selectors = _watch_params(req)
    initial: list[dict] = []
    if since is None:
        initial, since = store.list(req.rt.storage_gr, req.namespace, stored=True, **selectors)  # read only
    try:
        w = store.watch(req.rt.storage_gr, req.namespace, since_rv=since, **selectors)
    except StoreError as e:  # 410 travels inside the stream, as client-go expects
        h.start_stream()
        h.send_chunk(_event_line("ERROR", status_body(e.code, e.reason, e.message)))
        return h.end_stream()
    if hasattr(api.faults, "delayed"):
        w = api.faults.delayed(w)  # api-latency: events reach the client a network delay later
    h.start_stream()
    _count_watch(api, +1)
    try:
        for obj in initial:
            h.send_chunk(_watch_line(h, req, "ADDED", dict(obj)))  # out() sets apiVersion and kind on its own dict
        _pump(h, req, w, time.monotonic() + timeout, req.q("allowWatchBookmarks") in ("true", "1"))
        h.end_stream()
    except OSError:
        h.close_connection = True  # the client went away
    finally:
        w.close()
        _count_watch(api, -1)


def _count_watch(api: Any, delta: int) -> None:  # api: the ApiServer (Handler.api)
    with api.watch_changed:
        api.open_watches += delta
        api.watch_changed.notify_all()


def _peer_closed(conn: socket.socket) -> bool:
    """True when the client has closed its side (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _pump(h: Handler, req: Request, w, deadline: float, bookmarks: bool) -> None:
    api = h.api
    last_bookmark = time.monotonic()
    while not api.stopping.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or (api.faults is not None and api.faults.drop_watch_now()):
            return
        event = w.next(timeout=min(left, 1.0, api.bookmark_interval))
        if event is None and _peer_closed(h.connection):
            raise ConnectionResetError("the watch client went away")  # free the thread now, not at timeout
        if event is not None:
            h.send_chunk(_watch_line(h, req, event[0], event[1]))
        elif bookmarks and time.monotonic() - last_bookmark >= api.bookmark_interval:
            _bookmark(h, req, w)
            last_bookmark = time.monotonic()


def _bookmark(h: Handler, req: Request, w) -> None:
    """Send a BOOKMARK at the store's resourceVersion, unless events up to it are still queued."""
    rv = h.api.store.resource_version
    if w._queue.empty():  # every event up to rv has been sent: the bookmark is truthful
        mark = {"kind": req.rt.kind, "apiVersion": req.rt.api_version_for(req.version),
                "metadata": {"resourceVersion": str(rv)}}
        h.send_chunk(_event_line("BOOKMARK", mark))
