"""Thread-safe in-memory object store of the sandbox API server.

Objects are plain JSON dicts keyed by (group, plural); every write bumps one global integer
resourceVersion, is kept in a bounded history for watch resumption, and is fanned out to
watches (inside the lock, cheap queue puts) and subscribers (outside the lock, in order).
"""

from __future__ import annotations

import collections
import datetime
import queue
import re
import threading
import uuid
from collections.abc import Callable
from typing import Any

GR = tuple[str, str]
NAMESPACES: GR = ("", "namespaces")
HISTORY_SIZE = 5000


class StoreError(Exception):
    """Base of store errors; carries the HTTP code and Kubernetes reason for a Status."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(StoreError):
    code, reason = 404, "NotFound"


class AlreadyExists(StoreError):
    code, reason = 409, "AlreadyExists"


class Conflict(StoreError):
    code, reason = 409, "Conflict"


class Gone(StoreError):
    code, reason = 410, "Expired"


class Invalid(StoreError):
    """422 with field causes: a list of (field path, message)."""

    code, reason = 422, "Invalid"

    def __init__(self, causes: list[tuple[str, str]], message: str | None = None, name: str = ""):
        self.causes, self.name = list(causes), name
        text = "; ".join(f"{f}: {m}" for f, m in self.causes)
        super().__init__(message or f"the object is invalid: {text}")


def now_iso() -> str:
    """Current UTC time as Kubernetes prints it (RFC 3339, seconds, Z)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_json(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dicts and lists; leaves are shared, being immutable).

    The hottest function of a busy sandbox: it recurses only into containers and never calls
    itself for a leaf; plain dicts, lists and strings are recognised by type alone (subclasses
    still go through isinstance). Unlike marshal or pickle round trips it never keeps two paths
    to one shared list.
    """
    if type(value) is dict or (type(value) is not list and isinstance(value, dict)):
        out = {}
        for k, v in value.items():
            t = type(v)
            out[k] = copy_json(v) if (t is dict or t is list or (t is not str and _container(v))) else v
        return out
    if isinstance(value, list):
        out_list = []
        for v in value:
            t = type(v)
            out_list.append(copy_json(v) if (t is dict or t is list or (t is not str and _container(v))) else v)
        return out_list
    return value


def _container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _restamped(obj: dict) -> dict:
    """A new top-level dict with its own metadata dict, sharing everything else with obj.

    Stored objects are never changed in place (see Store), so the next version of an object
    can share their nested parts; only what _commit writes (metadata) must be its own.
    """
    return {**obj, "metadata": dict(obj["metadata"])}


def resource_label(gr: GR) -> str:
    """The name Kubernetes uses in messages: "pods", "deployments.apps"."""
    group, plural = gr
    return f"{plural}.{group}" if group else plural


def _key(obj: dict) -> tuple[str | None, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or None, meta.get("name") or ""


def _has_finalizers(gr: GR, obj: dict) -> bool:
    # Namespaces keep their "kubernetes" finalizer in spec, like the real API server.
    if (obj.get("metadata") or {}).get("finalizers"):
        return True
    return gr == NAMESPACES and bool((obj.get("spec") or {}).get("finalizers"))


def _body(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class Watch:
    """A stream of (type, obj) events for one filter; .next(timeout) returns None on timeout."""

    def __init__(self, store: "Store", gr: GR | None, namespace: str | None,
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
            self._queue.put((type_, copy_json(obj)))

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


class Store:
    """The object store; see docs/sandbox-design.md for the contract.

    A stored object is never changed in place: every write stores a new dict. So history,
    subscribers and the next version of an object may share a stored object's parts, and
    readers that only look (peek, names, subscribers) need no copy.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._data: dict[GR, dict[tuple[str | None, str], dict]] = {}
        self._rv = 0
        self._history: collections.deque = collections.deque(maxlen=HISTORY_SIZE)
        self._floor = 0  # oldest resourceVersion a watch may resume from
        self._watches: list[Watch] = []
        self._subscribers: list[Callable[[str, GR, dict], None]] = []
        self._pending: collections.deque = collections.deque()
        self._notify_lock = threading.Lock()
        self._local = threading.local()

    @property
    def resource_version(self) -> int:
        with self._lock:
            return self._rv

    # ---- reads ----
    def peek(self, gr: GR, namespace: str | None, name: str) -> dict | None:
        """The stored object itself, or None: read-only, for in-process readers that never change it."""
        with self._lock:
            return self._data.get(tuple(gr), {}).get((namespace or None, name))

    def names(self, gr: GR, namespace: str | None) -> list[tuple[str, bool]]:
        """(name, being deleted) of every object of gr in a namespace (None: cluster-scoped); no copies."""
        with self._lock:
            bucket = self._data.get(tuple(gr), {})
            return [(key[1], bool(obj["metadata"].get("deletionTimestamp")))
                    for key, obj in bucket.items() if key[0] == (namespace or None)]

    def get(self, gr: GR, namespace: str | None, name: str) -> dict | None:
        """A copy of the stored object, or None."""
        with self._lock:
            obj = self._data.get(tuple(gr), {}).get((namespace or None, name))
            return copy_json(obj) if obj is not None else None

    def list(self, gr: GR, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[dict], int]:
        """Copies of the matching objects sorted by namespace/name, and the store's resourceVersion."""
        labels, fields = parse_label_selector(label_selector), parse_field_selector(field_selector)
        with self._lock:
            bucket = self._data.get(tuple(gr), {})
            keys = sorted(bucket, key=lambda k: (k[0] or "", k[1]))
            out = []
            for key in keys:
                obj = bucket[key]
                if namespace and key[0] != namespace:
                    continue
                meta = obj.get("metadata") or {}
                if labels.matches_labels(meta.get("labels") or {}) and fields.matches_object(obj):
                    out.append(copy_json(obj))
            return out, self._rv

    def kinds(self) -> list[GR]:
        """Every (group, plural) that holds at least one object."""
        with self._lock:
            return [gr for gr, bucket in self._data.items() if bucket]

    # ---- writes ----
    def create(self, gr: GR, obj: dict) -> dict:
        """Store a new object (uid, resourceVersion, creationTimestamp, generation set); AlreadyExists."""
        gr = tuple(gr)
        obj = copy_json(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            raise Invalid([("metadata.name", "Required value: name or generateName is required")])
        with self._lock:
            bucket = self._data.setdefault(gr, {})
            key = _key(obj)
            if key in bucket:
                raise AlreadyExists(f'{resource_label(gr)} "{key[1]}" already exists')
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_iso(), generation=1)
            meta.pop("deletionTimestamp", None)
            meta.pop("resourceVersion", None)
            self._commit("ADDED", gr, obj, None)
            bucket[key] = obj
            result = copy_json(obj)
        self._drain()
        return result

    def update(self, gr: GR, obj: dict, *, subresource: str | None = None) -> dict:
        """Replace an object (or only its status); Conflict on a stale resourceVersion, NotFound."""
        gr = tuple(gr)
        obj = copy_json(obj)
        with self._lock:
            key = _key(obj)
            old = self._data.get(gr, {}).get(key)
            if old is None:
                raise NotFound(f'{resource_label(gr)} "{key[1]}" not found')
            self._check_rv(gr, obj, old)
            new = self._merge_update(old, obj, subresource)
            if (new["metadata"].get("deletionTimestamp") and not _has_finalizers(gr, new)):
                result = self._remove(gr, key, new)
            else:
                self._commit("MODIFIED", gr, new, old)
                self._data[gr][key] = new
                result = copy_json(new)
        self._drain()
        return result

    def delete(self, gr: GR, namespace: str | None, name: str) -> dict:
        """Remove an object, or mark it deleting while finalizers remain; NotFound."""
        gr = tuple(gr)
        with self._lock:
            key = (namespace or None, name)
            old = self._data.get(gr, {}).get(key)
            if old is None:
                raise NotFound(f'{resource_label(gr)} "{name}" not found')
            if not _has_finalizers(gr, old):
                result = self._remove(gr, key, _restamped(old))
            elif old["metadata"].get("deletionTimestamp"):
                result = copy_json(old)  # already terminating: nothing changes
            else:
                new = _restamped(old)
                new["metadata"]["deletionTimestamp"] = now_iso()
                if gr == NAMESPACES:
                    new["status"] = {**(old.get("status") or {}), "phase": "Terminating"}
                self._commit("MODIFIED", gr, new, old)
                self._data[gr][key] = new
                result = copy_json(new)
        self._drain()
        return result

    def mark_deleting(self, gr: GR, namespace: str | None, name: str, *, finalizer: str | None = None,
                      grace_seconds: int | None = None) -> dict:
        """Start a deletion that finishes later: deletionTimestamp set (now + grace), a finalizer added.

        Used for graceful pod deletion (the kubelet finishes it) and for Orphan / Foreground
        propagation (the garbage collector removes its finalizer when done). NotFound.
        """
        gr = tuple(gr)
        with self._lock:
            key = (namespace or None, name)
            old = self._data.get(gr, {}).get(key)
            if old is None:
                raise NotFound(f'{resource_label(gr)} "{name}" not found')
            new = _restamped(old)
            meta = new["metadata"]
            if finalizer and finalizer not in (meta.get("finalizers") or []):
                meta["finalizers"] = list(meta.get("finalizers") or []) + [finalizer]
            if not meta.get("deletionTimestamp"):
                when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=grace_seconds or 0)
                meta["deletionTimestamp"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                meta["deletionGracePeriodSeconds"] = int(grace_seconds or 0)
            elif new == old:
                return copy_json(old)
            self._commit("MODIFIED", gr, new, old)
            self._data[gr][key] = new
            result = copy_json(new)
        self._drain()
        return result

    def _check_rv(self, gr: GR, obj: dict, old: dict) -> None:
        want = (obj.get("metadata") or {}).get("resourceVersion")
        if want and str(want) != old["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {resource_label(gr)} "{old["metadata"]["name"]}": '
                "the object has been modified; please apply your changes to the latest version and try again")

    @staticmethod
    def _merge_update(old: dict, obj: dict, subresource: str | None) -> dict:
        """The stored object after an update: immutable metadata and (or only) status kept."""
        if subresource == "status":
            new = copy_json(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            meta = obj.get("metadata") or {}  # a /status writer's managedFields, when based on this version
            if isinstance(meta.get("managedFields"), list) and meta.get("resourceVersion") == old["metadata"].get(
                    "resourceVersion"):
                new["metadata"]["managedFields"] = meta["managedFields"]
            return new
        new = obj
        meta = new.setdefault("metadata", {})
        for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
            if field in old["metadata"]:
                meta[field] = old["metadata"][field]
            else:
                meta.pop(field, None)
        if "status" in old:
            new["status"] = copy_json(old["status"])
        else:
            new.pop("status", None)
        if _body(new) != _body(old):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        return new

    def _remove(self, gr: GR, key: tuple, obj: dict) -> dict:
        old = self._data[gr].pop(key)
        self._commit("DELETED", gr, obj, old)
        return copy_json(obj)

    def _commit(self, type_: str, gr: GR, obj: dict, old: dict | None) -> None:
        """Under the lock: assign the next resourceVersion, record history, feed watches."""
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        if len(self._history) == self._history.maxlen:
            self._floor = self._history[0][0]
        self._history.append((self._rv, type_, gr, obj, old))
        for w in list(self._watches):
            w._offer(type_, gr, obj, old)
        if self._subscribers:
            self._pending.append((type_, gr, obj))  # the stored object itself: subscribers only read it

    def _drain(self) -> None:
        """Outside the lock: deliver pending events to subscribers, in commit order."""
        if getattr(self._local, "draining", False):
            return  # a subscriber wrote to the store; the outer loop delivers that event too
        self._local.draining = True
        try:
            with self._notify_lock:
                while True:
                    with self._lock:
                        if not self._pending:
                            return
                        type_, gr, obj = self._pending.popleft()
                        subs = list(self._subscribers)
                    for fn in subs:
                        fn(type_, gr, obj)
        finally:
            self._local.draining = False

    # ---- watches and subscribers ----
    def watch(self, gr: GR | None, namespace: str | None = None, *, since_rv: int | None = None,
              label_selector: str | None = None, field_selector: str | None = None) -> Watch:
        """Events from now on (or replayed after since_rv, Gone when too old) matching the filters."""
        w = Watch(self, tuple(gr) if gr else None, namespace or None,
                  parse_label_selector(label_selector), parse_field_selector(field_selector))
        with self._lock:
            if since_rv is not None and since_rv < self._rv:
                if since_rv < self._floor:
                    raise Gone(f"too old resource version: {since_rv} ({self._floor})")
                for rv, type_, egr, obj, old in self._history:
                    if rv > since_rv:
                        w._offer(type_, egr, obj, old)
            self._watches.append(w)
        return w

    def _remove_watch(self, w: Watch) -> None:
        with self._lock:
            if w in self._watches:
                self._watches.remove(w)

    def subscribe(self, callback: Callable[[str, GR, dict], None]) -> Callable[[], None]:
        """Call callback(type, gr, obj) after every change, outside the lock; returns unsubscribe.

        obj is the stored object itself, shared by every subscriber: read it, copy it
        (copy_json) before changing anything in it.
        """
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    # ---- persistence ----
    def snapshot(self) -> dict:
        """Everything stored, as JSON data for persist.py."""
        with self._lock:
            objects = [{"group": g, "resource": r, "object": copy_json(o)}
                       for (g, r), bucket in self._data.items() for o in bucket.values()]
            return {"resourceVersion": self._rv, "objects": objects}

    def restore(self, data: dict) -> None:
        """Replace the whole content; watches keep running, history restarts at the restored rv."""
        with self._lock:
            self._data = {}
            top = int(data.get("resourceVersion", 0))
            for entry in data.get("objects", []):
                gr, obj = (entry["group"], entry["resource"]), copy_json(entry["object"])
                self._data.setdefault(gr, {})[_key(obj)] = obj
                top = max(top, int(obj["metadata"].get("resourceVersion", 0)))
            self._rv = top
            self._history.clear()
            self._floor = top


# ---- selectors ----
class Selector:
    """A parsed label or field selector: a list of (key, op, values) requirements."""

    def __init__(self, reqs: list[tuple[str, str, tuple[str, ...]]]):
        self.reqs = reqs

    def matches_labels(self, labels: dict) -> bool:
        return all(_req_matches(op, key in labels, str(labels.get(key, "")), vals)
                   for key, op, vals in self.reqs)

    def matches_object(self, obj: dict) -> bool:
        return all(_req_matches(op, True, field_value(obj, key), vals) for key, op, vals in self.reqs)


def _req_matches(op: str, present: bool, value: str, vals: tuple[str, ...]) -> bool:
    if op == "exists":
        return present
    if op == "!exists":
        return not present
    if op in ("=", "==", "in"):
        return present and value in vals
    return not present or value not in vals  # != and notin


def field_value(obj: dict, path: str) -> str:
    """The string value at a dotted path (metadata.name, status.phase); "" when absent."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


class SelectorError(StoreError):
    code, reason = 400, "BadRequest"


def parse_label_selector(text: str | None) -> Selector:
    """Parse a=b, a==b, a!=b, a in (x,y), a notin (x), a, !a."""
    reqs = []
    for part in _split_top(text or ""):
        m = re.fullmatch(r"([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)", part)
        if m:
            vals = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append((m.group(1), m.group(2), vals))
            continue
        m = re.fullmatch(r"([^\s!=]+)\s*(==|!=|=)\s*([^\s,=!]*)", part)
        if m:
            reqs.append((m.group(1), m.group(2), (m.group(3),)))
        elif re.fullmatch(r"![^\s!=(),]+", part):
            reqs.append((part[1:], "!exists", ()))
        elif re.fullmatch(r"[^\s!=(),]+", part):
            reqs.append((part, "exists", ()))
        else:
            raise SelectorError(f"unable to parse requirement: {part!r} in selector {text!r}")
    return Selector(reqs)


def parse_field_selector(text: str | None) -> Selector:
    """Parse field=value, field==value, field!=value (comma-separated, all must hold)."""
    reqs = []
    for part in _split_top(text or ""):
        m = re.fullmatch(r"([^\s!=]+)\s*(==|!=|=)\s*(.*)", part)
        if not m:
            raise SelectorError(f"invalid field selector: {part!r}; use field=value or field!=value")
        reqs.append((m.group(1), m.group(2), (m.group(3).strip(),)))
    return Selector(reqs)
