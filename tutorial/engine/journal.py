"""The ownership journal: what the tutorial created on a cluster, kept in the cluster itself.

Around every step that changes the cluster, the objects of interest are listed before and after
(metadata only). What is new afterwards was created by the tutorial; what the step touched but
found already there is recorded as pre-existing. The record lives in ConfigMap
`kube-system/gateway-tutorial-journal`, so `gateway-tutorial reset` from any machine knows what
it may delete. kube-system because the API server refuses to delete it, no lesson writes there,
and resetting lesson namespaces (emojivoto, istio-system, istio-ingress) can never take the
journal with them. The format is documented in docs/instructor.md.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from tutorial.engine.journalcheck import (BASELINE_KEY, FORMAT, OWNER_ANNOTATION, STEP_PREFIX, JournalInvalid,
                                          baseline_from, check_baseline, check_data)
from tutorial.engine.snapshot import CLUSTER_KINDS, NAMESPACED_KINDS, Snapshot, snapshot  # noqa: F401 - re-exported
from tutorial.instructor.kubeapi import Kube, ObjRef
from tutorial.instructor.stepscope import changes_cluster, interest, namespaces_of

LOG = logging.getLogger("tutorial.engine.journal")

JOURNAL_NAMESPACE = "kube-system"
JOURNAL_NAME = "gateway-tutorial-journal"
MANAGED_BY = {"app.kubernetes.io/managed-by": "gateway-tutorial"}


@dataclass
class StepEntry:
    """What one step created (objects with their uid, Helm releases) and what it found already there."""

    target: str
    seq: int = 0
    recorded: str = ""
    created: list[dict] = field(default_factory=list)   # ObjRef dict + uid (+ release)
    releases: list[dict] = field(default_factory=list)  # {namespace, name}
    kept: list[dict] = field(default_factory=list)      # ObjRef dict + why

    def to_json(self) -> str:
        return json.dumps({"target": self.target, "seq": self.seq, "recorded": self.recorded,
                           "created": self.created, "releases": self.releases, "kept": self.kept},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "StepEntry":
        return cls.from_doc(json.loads(text))

    @classmethod
    def from_doc(cls, doc: dict) -> "StepEntry":
        """From an entry journalcheck.check_entry has validated."""
        return cls(doc["target"], int(doc.get("seq", 0)), doc.get("recorded", ""), list(doc.get("created", [])),
                   list(doc.get("releases", [])), list(doc.get("kept", [])))

    @property
    def empty(self) -> bool:
        return not (self.created or self.releases or self.kept)


class JournalError(Exception):
    """The journal could not be read or written; the message says why."""


class Journal:
    """Read and update the journal ConfigMap of one cluster (optimistic concurrency, retried)."""

    def __init__(self, kube: Kube):
        self.kube = kube

    def last_written(self) -> tuple | None:
        """(entries, ConfigMap) as this process last wrote them on this cluster, or None: what a
        read() would return unless someone else wrote since, which the write's resourceVersion
        precondition finds out (409, then update() reads afresh)."""
        with _KUBES_LOCK:
            return _WRITTEN.get(self.kube)

    def _remember(self, entries: dict[str, StepEntry] | None, cm: dict | None) -> None:
        with _KUBES_LOCK:
            if entries is None:
                _WRITTEN.pop(self.kube, None)
            else:
                _WRITTEN[self.kube] = ({t: e for t, e in entries.items() if not e.empty}, cm)

    def _path(self, name: str | None = JOURNAL_NAME) -> str:
        base = f"/api/v1/namespaces/{JOURNAL_NAMESPACE}/configmaps"
        return f"{base}/{name}" if name else base

    def read(self) -> tuple[dict[str, StepEntry], dict | None]:
        """(target -> entry, the ConfigMap or None). The journal is outside input: one key of
        the wrong type, an unknown key or format version refuses all of it (JournalError)."""
        status, cm = self.kube.request("GET", self._path())
        if status == 404:
            return {}, None
        self.kube.raise_for(status, cm, "read the tutorial's journal")
        try:
            checked, _ = check_data(cm.get("data") if isinstance(cm, dict) else None)
        except JournalInvalid as exc:
            raise JournalError(f"the journal {JOURNAL_NAMESPACE}/{JOURNAL_NAME} fails validation at {exc}; "
                               "nothing was changed. Fix or delete that key (kubectl edit configmap -n "
                               f"{JOURNAL_NAMESPACE} {JOURNAL_NAME})") from None
        entries = {doc["target"]: StepEntry.from_doc(doc) for doc in checked.values()}
        return entries, cm

    @staticmethod
    def baseline(cm: dict | None) -> dict | None:
        """What existed before the tutorial's first step (namespaces and CRDs with uids), if recorded."""
        text = ((cm or {}).get("data") or {}).get(BASELINE_KEY)
        return check_baseline(text) if text is not None else None

    def entries(self) -> dict[str, StepEntry]:
        return self.read()[0]

    def update(self, change, *, first: tuple | None = None, baseline: dict | None = None) -> dict[str, StepEntry]:
        """Apply change(entries) -> entries and write it back; retried when someone else wrote first.

        first: a read() made earlier, tried before reading again (its resourceVersion guards the
        write, so a journal changed since then is simply read afresh).
        baseline: what existed before this step; kept only when the journal has none yet (first step).
        """
        first = first if first is not None else self.last_written()
        for attempt in range(8):
            entries, cm = first if (first is not None and attempt == 0) else self.read()
            new = change(dict(entries))
            if self._write(new, cm, self.baseline(cm) or baseline):
                return new
        raise JournalError("the journal kept changing while it was being written; try again")

    def _write(self, entries: dict[str, StepEntry], cm: dict | None, baseline: dict | None = None) -> bool:
        data = {"format": FORMAT}
        data.update({STEP_PREFIX + e.target.replace("/", "."): e.to_json() for e in entries.values() if not e.empty})
        if len(data) > 1 and baseline is not None:
            data[BASELINE_KEY] = json.dumps(baseline, sort_keys=True)
        if cm is None:
            if len(data) == 1:
                self._remember({}, None)
                return True
            body = {"apiVersion": "v1", "kind": "ConfigMap", "data": data,
                    "metadata": {"name": JOURNAL_NAME, "namespace": JOURNAL_NAMESPACE, "labels": MANAGED_BY}}
            status, doc = self.kube.request("POST", self._path(None), body)
        elif len(data) <= 2 and set(data) <= {"format", BASELINE_KEY}:  # nothing left: no trace
            pre = {"preconditions": {"resourceVersion": cm["metadata"]["resourceVersion"]}}
            status, doc = self.kube.request("DELETE", self._path(), pre)
            if status in (200, 202, 404):
                self._remember({}, None)
                return True
        else:
            body = dict(cm, data=data)
            status, doc = self.kube.request("PUT", self._path(), body)
            if status == 404:  # deleted meanwhile (a reset elsewhere): read afresh
                self._remember(None, None)
                return False
        if status == 409:
            self._remember(None, None)
            return False
        self.kube.raise_for(status, doc, "write the tutorial's journal")
        echoed = isinstance(doc, dict) and doc.get("data") == data and (doc.get("metadata") or {}).get("resourceVersion")
        self._remember(entries if echoed else None, doc if echoed else None)
        return True


# -- the hook ---------------------------------------------------------------------------------

@dataclass
class StepWatch:
    """What record_before_step saw, handed back to record_after_step."""

    kube: Kube
    namespaces: set[str]
    before: Snapshot
    after: Snapshot | None = None  # once recorded: what the next step of a prepare may start from


def record_satisfied(engine, step, *, strict: bool = False) -> StepEntry | None:
    """Record a step found already done (prepare skips it): what it names existed before."""
    return record_after_step(engine, step, record_before_step(engine, step, strict=strict), strict=strict,
                             unchanged=True)


def record_before_step(engine, step, *, strict: bool = False) -> StepWatch | None:
    """Snapshot before a step runs; None when the step only reads, is already being journaled
    (by an outer `journaled`), or (not strict) the cluster cannot be asked."""
    if (id(engine), step.target) in _active():
        return None
    return _before(engine, step, strict)


def _before(engine, step, strict: bool, previous: Snapshot | None = None) -> StepWatch | None:
    try:
        if not changes_cluster(engine, step):
            return None
        kube = kube_for(engine)
        namespaces = namespaces_of(engine, step)
        return StepWatch(kube, namespaces, snapshot(kube, namespaces, reuse=previous))
    except Exception as exc:  # never let bookkeeping break a learner's step
        if strict:
            raise
        LOG.warning("journal: no snapshot before %s: %s", step.target, exc)
        return None


def record_after_step(engine, step, watch: StepWatch | None, *, strict: bool = False,
                      unchanged: bool = False) -> StepEntry | None:
    """Snapshot after the step and add what it created (and found) to the cluster's journal.

    unchanged=True: the step was skipped because the cluster already satisfied it; what it
    names is recorded as pre-existing (so reset keeps it and --dry-run says why).
    """
    if watch is None:
        return None
    try:
        kube = watch.kube
        after = watch.before if unchanged else snapshot(kube, watch.namespaces, watch.before)
        watch.after = after
        journal = Journal(kube)
        result: list[StepEntry] = []

        def change(entries):
            entry = diff(step.target, watch.before, after, entries, interest(engine, step))
            entries[step.target] = entry
            result.append(entry)
            return entries

        baseline = dict(baseline_from(watch.before.objects.values()), recorded=_now())
        journal.update(change, baseline=baseline)
        if result and not unchanged:
            stamp(kube, result[-1], watch.before)
        return result[-1] if result else None
    except Exception as exc:
        if strict:
            raise
        LOG.warning("journal: not recorded for %s: %s", step.target, exc)
        return None


_KUBES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_KUBES_LOCK = threading.Lock()
_WRITTEN: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # Kube -> (entries, ConfigMap) it last wrote


def kube_for(engine) -> Kube:
    """A Kube on the engine's own cluster client (one connection pool per cluster).

    It had a pool of its own, so that a check's half-read watch stream could not reach it; watches
    close their connection when they stop early (ClusterClient.watch), and the second pool cost a
    prepare ~8 more TLS handshakes per cluster (the snapshot's parallel lists), on both sides.
    """
    client = engine.client
    with _KUBES_LOCK:
        kube = _KUBES.get(engine)
        if kube is None or kube.client is not client:  # the engine may have changed its client
            kube = _KUBES[engine] = Kube(client)
        return kube


def release(engine) -> None:
    """Forget the engine's Kube (fleet commands call it when done; engine.close() closes the pool)."""
    with _KUBES_LOCK:
        kube = _KUBES.pop(engine, None)
        if kube is not None:
            _WRITTEN.pop(kube, None)


_ACTIVE = threading.local()  # steps being journaled on this thread: an inner hook call is a no-op


def _active() -> set:
    if not hasattr(_ACTIVE, "keys"):
        _ACTIVE.keys = set()
    return _ACTIVE.keys


@contextmanager
def journaled(engine, step, *, strict: bool = False, previous: Snapshot | None = None):
    """`with journaled(engine, step):` around a step's commands and checks records what they created.

    previous: the after-snapshot of the step run just before on this cluster (a fleet prepare, where
    nothing else acts between two steps), taken as this step's before-snapshot (snapshot.py)."""
    active = _active()
    key = (id(engine), step.target)
    if key in active:
        yield None
        return
    active.add(key)
    try:
        watch = _before(engine, step, strict, previous)
        try:
            yield watch
        finally:
            record_after_step(engine, step, watch, strict=strict)
    finally:
        active.discard(key)


def diff(target: str, before: Snapshot, after: Snapshot, entries: dict[str, StepEntry],
         interest: set[tuple[str, str | None]]) -> StepEntry:
    """The step's entry: new objects and releases, merged with what an earlier run recorded."""
    old = entries.get(target) or StepEntry(target)
    created = {_ident(c): c for c in old.created}
    new_ns = after.namespaces - before.namespaces
    for key, seen in after.objects.items():
        if key in before.objects or seen.deleting or seen.ref.namespace in new_ns:
            continue  # objects in a new namespace go with it
        if seen.release and seen.release in before.releases:
            continue  # a pre-existing Helm release grew: that release is not ours
        created[_ident(seen.ref.to_dict())] = dict(seen.ref.to_dict(), uid=seen.uid,
                                                   **({"release": seen.release} if seen.release else {}))
    releases = {f"{r['namespace']}/{r['name']}": r for r in old.releases}
    for key in after.releases.keys() - before.releases.keys():
        ns, name = key.split("/", 1)
        releases[key] = {"namespace": ns, "name": name}
    owned = {_ident(c) for e in entries.values() for c in e.created} | set(created)
    kept = {_ident(k): k for k in old.kept}
    for key, seen in before.objects.items():
        if key in after.objects and _interesting(seen.ref, interest) and _ident(seen.ref.to_dict()) not in owned:
            kept[_ident(seen.ref.to_dict())] = dict(seen.ref.to_dict(), why=f"it existed before {target} ran")
    for key in before.releases.keys() & after.releases.keys():
        ns, name = key.split("/", 1)
        if ("HelmRelease", name) in interest and not any(r["name"] == name for e in entries.values() for r in e.releases):
            ref = {"api_version": "helm", "kind": "HelmRelease", "namespace": ns, "name": name}
            kept[_ident(ref)] = dict(ref, why=f"the Helm release existed before {target} ran "
                                              "(the step upgraded it; reset does not roll it back)")
    seq = old.seq or (max((e.seq for e in entries.values()), default=0) + 1)
    return StepEntry(target, seq, _now(), sorted(created.values(), key=_ident),
                     sorted(releases.values(), key=lambda r: (r["namespace"], r["name"])),
                     sorted(kept.values(), key=_ident))


def _interesting(ref: ObjRef, interest: set[tuple[str, str | None]]) -> bool:
    return (ref.kind, ref.name) in interest or (ref.kind, None) in interest


def _ident(d: dict) -> str:
    return f"{d['kind']}/{d.get('namespace') or ''}/{d['name']}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def stamp(kube: Kube, entry: StepEntry, before: Snapshot) -> None:
    """Mark what this step created with the ownership annotation reset asks for (one merge patch
    each, only for objects new in this run). A failed stamp leaves the object unowned: safe."""
    old = {o.uid for o in before.objects.values()}
    for created in entry.created:
        if created.get("uid") in old:
            continue
        ref = ObjRef.from_dict(created)
        path = kube.ref_path(ref)
        if path is None:
            continue
        body = {"metadata": {"annotations": {OWNER_ANNOTATION: entry.target}}}
        status, doc = kube.request("PATCH", path, body, content_type="application/merge-patch+json")
        if status >= 400 and status != 404:
            LOG.warning("journal: could not mark %s as the tutorial's: %s", ref, doc.get("message") or status)
    for rel in entry.releases:
        _stamp_release(kube, rel, entry.target)


def _stamp_release(kube: Kube, rel: dict, target: str) -> None:
    """Annotate the Helm release's records, so reset knows the tutorial installed that release."""
    status, doc = kube.request("GET", f"/api/v1/namespaces/{rel['namespace']}/secrets",
                               query=[("labelSelector", f"owner=helm,name={rel['name']}")])
    if status >= 400:
        return
    for secret in doc.get("items", []):
        name = secret["metadata"]["name"]
        if OWNER_ANNOTATION in (secret["metadata"].get("annotations") or {}):
            continue
        kube.request("PATCH", f"/api/v1/namespaces/{rel['namespace']}/secrets/{name}",
                     {"metadata": {"annotations": {OWNER_ANNOTATION: target}}},
                     content_type="application/merge-patch+json")
