"""Thread-safe in-memory object store of the sandbox API server.

Objects are plain JSON dicts keyed by (group, plural); every write bumps one global integer
resourceVersion, is kept in a bounded history for watch resumption, and is fanned out to
watches (inside the lock, cheap queue puts) and subscribers (outside the lock, in order).
"""

from __future__ import annotations

import collections
import datetime
import threading
import uuid
from collections.abc import Callable

from tutorial.sandbox.storage.objects import (GR, NAMESPACES, AlreadyExists, Conflict, Gone, Invalid, NotFound,
                                              copy_json, now_iso, resource_label)
from tutorial.sandbox.storage.selectors import parse_field_selector, parse_label_selector
from tutorial.sandbox.storage.watch import Watch

HISTORY_SIZE = 5000


def _restamped(obj: dict) -> dict:
    """A new top-level dict with its own metadata dict, sharing everything else with obj.

    Stored objects are never changed in place (see Store), so the next version of an object
    can share their nested parts; only what _commit writes (metadata) must be its own.
    """
    return {**obj, "metadata": dict(obj["metadata"])}


def _status_part(obj: dict) -> dict:
    """Copies of what a /status update takes from obj (status, the metadata naming the version)."""
    meta = obj.get("metadata") or {}
    part = {"metadata": {k: copy_json(meta[k]) for k in ("name", "namespace", "resourceVersion", "managedFields")
                         if k in meta}}
    if "status" in obj:
        part["status"] = copy_json(obj["status"])
    return part


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
        self._encoded: dict[int, tuple[dict, bytes]] = {}  # id(stored object) -> (it, its large encoding)

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
             field_selector: str | None = None, metadata_only: bool = False,
             stored: bool = False) -> tuple[list[dict], int]:
        """Copies of the matching objects sorted by namespace/name, and the store's resourceVersion.
        metadata_only: each copy is {"metadata": ...} alone (a CRD's schema is not copied for nothing).
        stored: the stored objects themselves, read-only (as view), with the resourceVersion they are at."""
        with self._lock:
            found = self.view(gr, namespace, label_selector=label_selector, field_selector=field_selector)
            if metadata_only:
                return [{"metadata": copy_json(o["metadata"])} for o in found], self._rv
            return (found if stored else [copy_json(o) for o in found]), self._rv

    def view(self, gr: GR, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """The matching stored objects themselves, sorted by namespace/name, as list() selects them:
        read-only, like peek, for in-process readers that never change them (no copies)."""
        labels, fields = parse_label_selector(label_selector), parse_field_selector(field_selector)
        with self._lock:
            bucket = self._data.get(tuple(gr), {})
            out = []
            for key in sorted(bucket, key=lambda k: (k[0] or "", k[1])):
                obj = bucket[key]
                if namespace and key[0] != namespace:
                    continue
                if labels.matches_labels(obj["metadata"].get("labels") or {}) and fields.matches_object(obj):
                    out.append(obj)
            return out

    def encoded(self, obj: dict, encode: Callable[[dict], bytes]) -> bytes:
        """encode(obj) for a stored object (never changed in place), kept while it is the stored version
        when large (a CRD: some 400 KB of JSON, listed again and again)."""
        with self._lock:
            kept = self._encoded.get(id(obj))
        if kept is not None and kept[0] is obj:
            return kept[1]
        data = encode(obj)
        if len(data) >= 16384:
            with self._lock:
                meta = obj.get("metadata") or {}
                key = (meta.get("namespace") or None, meta.get("name") or "")
                if any(bucket.get(key) is obj for bucket in self._data.values()):  # stored now
                    self._encoded[id(obj)] = (obj, data)
        return data

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
        obj = _status_part(obj) if subresource == "status" else copy_json(obj)
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
            new = _restamped(old)
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
            new["status"] = old["status"]  # shared with the stored version, which never changes
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
        if old is not None:
            self._encoded.pop(id(old), None)
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
            self._encoded.clear()
            top = int(data.get("resourceVersion", 0))
            for entry in data.get("objects", []):
                gr, obj = (entry["group"], entry["resource"]), copy_json(entry["object"])
                self._data.setdefault(gr, {})[_key(obj)] = obj
                top = max(top, int(obj["metadata"].get("resourceVersion", 0)))
            self._rv = top
            self._history.clear()
            self._floor = top
