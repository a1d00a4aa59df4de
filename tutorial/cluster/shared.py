"""One look at a cluster shared by all of its checks: each kind is listed once per namespace.

`status` evaluates ~20 checks of a cluster without waiting, and most of them read the same few
lists: three Services of one namespace, one Gateway four times, every CRD twice. Inside
ClusterClient.shared_reads(), a list by name (fieldSelector metadata.name=N) or by a plain label
selector, and a get by name, are answered from one list of the kind in that namespace, asked once
(callers asking at the same moment wait for that one answer), and filtered here exactly as the API
server filters. Other selectors go to the server as before. If the shared list is refused (RBAC
may allow a get but not a list), each read asks the server itself, as it would have.

What the cluster serves is also asked once: a group version found not served, or a kind missing
from a served one, stays so until the end of the scope (outside it, it is asked again, since its
CRDs may come with the next step).

The objects handed out are shared by every caller: read them, never change them.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

# A label key (optional DNS-subdomain prefix, then a name) and a label value, as Kubernetes validates them.
_KEY = r"(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?"
_REQUIREMENT = re.compile(rf"(?P<not>!)?(?P<key>{_KEY})(?:(?P<op>==|=|!=)(?P<value>{_VALUE}))?")
_NAME_FIELD = re.compile(r"metadata\.name==?(?P<name>[^,=!]*)")

Requirement = tuple[str, str, str | None]  # (key, op: exists / !exists / = / !=, value)


def label_matcher(selector: str | None) -> Callable[[dict], bool] | None:
    """A predicate over an object's labels for an equality-based selector ('a=b,c!=d,e,!f'),
    matching as the API server does; None when the selector is another form (set-based, spaces)."""
    if not selector:
        return lambda labels: True
    requirements: list[Requirement] = []
    for part in selector.split(","):
        m = _REQUIREMENT.fullmatch(part)
        if m is None or (m["not"] and m["op"]):
            return None
        if m["op"] is None:
            requirements.append((m["key"], "!exists" if m["not"] else "exists", None))
        else:
            requirements.append((m["key"], "!=" if m["op"] == "!=" else "=", m["value"]))

    def matches(labels: dict) -> bool:
        for key, op, value in requirements:
            have = labels.get(key)
            if ((op == "exists" and key not in labels) or (op == "!exists" and key in labels)
                    or (op == "=" and (key not in labels or have != value))
                    or (op == "!=" and key in labels and have == value)):
                return False
        return True
    return matches


def name_of_field(selector: str | None) -> tuple[bool, str | None]:
    """(understood, name) for a field selector: only none, or metadata.name=N, is understood here."""
    if not selector:
        return True, None
    m = _NAME_FIELD.fullmatch(selector)
    return (True, m["name"]) if m else (False, None)


class _Flight:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.doc: dict | None = None
        self.error: Exception | None = None


class SharedReads:
    """The lists of one cluster asked during a scope, by REST path; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: dict[str, _Flight] = {}
        self.discovered: dict[str, Exception | None] = {}  # api_version -> None (asked) or its error
        self.lists_asked = 0

    def discover(self, kinds, api_version: str, fetch) -> None:
        """KindTable.discover, asked once per scope: a group version not served raises again."""
        from tutorial.cluster.client import ClusterError
        from tutorial.cluster.kinds import _copy

        if api_version in self.discovered:
            if self.discovered[api_version] is not None:
                raise _copy(self.discovered[api_version])
            return
        try:
            kinds.discover(api_version, fetch)
        except ClusterError as exc:
            if exc.status == 404:
                self.discovered[api_version] = exc
            raise
        self.discovered[api_version] = None

    def list(self, get_json, ref, namespace: str | None, label_selector: str | None, field_selector: str | None,
             retry) -> tuple[list[dict], str] | None:
        """(items, resourceVersion) for ClusterClient.list from the scope's one list of the kind in the
        namespace, filtered as the server would; None when the selectors are not ones filtered here
        or that list was refused (the caller then asks the server itself)."""
        understood, name = name_of_field(field_selector)
        labels = label_matcher(label_selector)
        if not understood or labels is None:
            return None
        path = ref.path(namespace)
        doc = self.list_doc(path, lambda: get_json(path, retry=retry))
        if doc is None:
            return None
        return select(doc.get("items") or [], name, labels), (doc.get("metadata") or {}).get("resourceVersion", "")

    def list_doc(self, path: str, fetch: Callable[[], dict]) -> dict | None:
        """The list at `path`, fetched once; None when that list was refused (ask directly instead).
        Errors that say the server is unreachable or in trouble are raised (a copy per caller)."""
        from tutorial.cluster.kinds import _copy

        with self._lock:
            flight = self._lists.get(path)
            leader = flight is None
            if leader:
                flight = self._lists[path] = _Flight()
                self.lists_asked += 1
        if leader:
            try:
                flight.doc = fetch()
            except Exception as exc:
                flight.error = exc
            finally:
                flight.done.set()
        else:
            flight.done.wait()
        if flight.error is None:
            return flight.doc
        if _asking_again_helps(flight.error):
            return None
        raise flight.error if leader else _copy(flight.error)


def _asking_again_helps(exc: Exception) -> bool:
    """A refused list (403 and the like) may still allow a get or a selected list: ask those directly.
    Unreachable and transient errors would only repeat."""
    from tutorial.cluster.client import ClusterError

    return isinstance(exc, ClusterError) and not exc.unreachable and not exc.transient


def select(items: list[dict], name: str | None, labels: Callable[[dict], bool]) -> list[dict]:
    """The items the API server would return for this name and label selector."""
    out = []
    for obj in items:
        meta = obj.get("metadata") or {}
        if (name is None or meta.get("name") == name) and labels(meta.get("labels") or {}):
            out.append(obj)
    return out
