"""The controller runtime: one thread that runs every simulated controller of a cluster.

Store changes and timers go into one queue; the thread hands each change to the controllers
watching its resource and runs timers when due. Keeping all controller code on one thread means
controllers need no locks, and a controller that raises is logged without stopping the others.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from tutorial.sandbox.faults import FaultSet
from tutorial.sandbox.storage.objects import copy_json

GR = tuple[str, str]
LOG = logging.getLogger("tutorial.sandbox.controllers.runtime")
EVENTS: GR = ("", "events")


def now_iso() -> str:
    """The current time as Kubernetes writes timestamps (RFC 3339, seconds, UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SandboxSettings:
    """Names and delays of one simulated cluster; delays are small so lessons run in seconds."""

    cluster_name: str = "sandbox"
    lb_address: str = ""  # preferred first LoadBalancer address; "" = this process's block
    node_name: str = "sandbox-control-plane"
    pod_start_delay: float = 0.3      # Pending -> ContainerCreating -> Running, split in three
    image_pull_delay: float = 0.1     # "Pulling image" -> "Pulled"
    lb_delay: float = 0.2             # LoadBalancer Service -> ingress address
    backoff_delay: float = 1.0        # first ImagePullBackOff / CrashLoopBackOff wait (then doubles)
    error_delay: float = 0.3          # how long ErrImagePull shows, and a crashing container runs
    slow_factor: float = 1.0          # multiplies every delay (the slow-controllers fault too)
    progress_deadline_scale: float = 1.0  # times a Deployment's progressDeadlineSeconds (600 s)


class Controller:
    """Base class: a controller reacts to store events of the resources it watches."""

    name: str = "controller"
    watches: frozenset[GR] | None = frozenset()  # None: every resource (the garbage collector)
    reads_only: bool = False  # True: on_event never changes the object it is given (no copy needed)

    def __init__(self, ctx: "ControllerContext") -> None:
        self.ctx = ctx

    def resync(self) -> None:
        """Reconcile everything (at start, after a restore and when faults change)."""

    def on_event(self, type: str, gr: GR, obj: dict) -> None:
        """One store change (ADDED, MODIFIED, DELETED) of a watched resource."""


class ControllerContext:
    """What a controller may use: the store, faults, settings, timers, Events and a log."""

    def __init__(self, runtime: "ControllerRuntime", store: Any, faults: FaultSet,
                 settings: SandboxSettings, registry: Any = None) -> None:
        self._runtime = runtime
        self.store = store
        self.faults = faults
        self.settings = settings
        self.registry = registry  # resources.Registry when the cluster has one (GC, namespaces)
        self._event_names: dict[tuple, str] = {}
        self._last_ns = 0

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        """Run fn on the controller thread after `delay` seconds."""
        self._runtime.add_timer(delay, fn)

    def delay(self, seconds: float) -> float:
        """A base delay scaled by settings.slow_factor and the slow-controllers fault."""
        return seconds * self.settings.slow_factor * self.faults.slow_factor()

    def resync_soon(self) -> None:
        """Ask for a full resync of every controller (after the current work)."""
        self._runtime.request_resync()

    def log(self, msg: str) -> None:
        LOG.info("[%s] %s", self.settings.cluster_name, msg)

    def record_event(self, obj: dict, type: str, reason: str, message: str, component: str,
                     field_path: str | None = None) -> None:
        """Write (or bump the count of) a core/v1 Event about obj, as the named component."""
        meta = obj.get("metadata", {})
        key = (meta.get("uid"), type, reason, message, component)
        namespace = meta.get("namespace") or "default"
        ns_obj = self.store.peek(("", "namespaces"), None, namespace)
        if ns_obj is None or ns_obj["metadata"].get("deletionTimestamp"):
            return  # an Event would keep a terminating namespace alive (or land nowhere)
        now = now_iso()
        name = self._event_names.get(key)
        existing = self.store.get(EVENTS, namespace, name) if name else None
        if existing is not None:
            existing["count"] = int(existing.get("count", 1)) + 1
            existing["lastTimestamp"] = now
            existing["metadata"].pop("resourceVersion", None)
            self._write(lambda: self.store.update(EVENTS, existing))
            return
        # Like the real recorder: "<object>.<unix nanoseconds in hex>", so names sort by time.
        self._last_ns = max(time.time_ns(), self._last_ns + 1)
        name = f"{meta.get('name', 'object')}.{self._last_ns:x}"
        self._event_names[key] = name
        event = self._new_event(obj, namespace, name, type, reason, message, component, field_path, now)
        self._write(lambda: self.store.create(EVENTS, event))

    def _new_event(self, obj, namespace, name, type, reason, message, component, field_path, now):
        meta = obj.get("metadata", {})
        involved = {"apiVersion": obj.get("apiVersion", "v1"), "kind": obj.get("kind", ""),
                    "name": meta.get("name", ""), "uid": meta.get("uid", ""),
                    "resourceVersion": meta.get("resourceVersion", "")}
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component}
        if component == "kubelet":
            source["host"] = self.settings.node_name
        return {"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": involved, "reason": reason, "message": message, "type": type,
                "source": source, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
                "reportingComponent": component,
                "reportingInstance": source.get("host", ""), "eventTime": None}

    def _write(self, fn: Callable[[], Any]) -> Any:
        """Run a store write; a lost race (conflict, gone namespace) is logged, not raised."""
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - events are best effort
            LOG.debug("event write failed: %s", exc)
            return None


_RESYNC = object()
_STOP = object()


class ControllerRuntime:
    """Runs controllers on one daemon thread, fed by store events and timers."""

    def __init__(self, store: Any, faults: FaultSet, settings: SandboxSettings,
                 controllers: Iterable[type[Controller]], registry: Any = None) -> None:
        self.store = store
        self.faults = faults
        self.settings = settings
        self.ctx = ControllerContext(self, store, faults, settings, registry)
        self._classes = list(controllers)
        self.controllers: list[Controller] = []
        self._queue: queue.Queue = queue.Queue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.errors = 0  # controller exceptions so far (tests and `sandbox serve` may show it)

    def start(self) -> None:
        """Build the controllers, subscribe to the store and faults, resync, then run."""
        self.controllers = [cls(self.ctx) for cls in self._classes]
        self._unsubscribe.append(self.store.subscribe(self._on_store_event))
        self._unsubscribe.append(self.faults.subscribe(self.request_resync))
        self._queue.put(_RESYNC)
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"sandbox-controllers-{self.settings.cluster_name}")
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking events, finish the current item and join the thread."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._queue.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def request_resync(self) -> None:
        self._queue.put(_RESYNC)

    def add_timer(self, delay: float, fn: Callable[[], None]) -> None:
        """Queue fn to run at now+delay; thread-safe (timers may be added from any thread)."""
        self._queue.put(("timer", time.monotonic() + max(0.0, delay), fn))

    def _on_store_event(self, type: str, gr: GR, obj: dict) -> None:
        self._queue.put(("event", type, gr, obj))

    def _loop(self) -> None:
        while True:
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                self._handle(item)
            self._run_due_timers()

    def _handle(self, item: Any) -> None:
        if item is _RESYNC:
            self._resync()
        elif item[0] == "timer":
            heapq.heappush(self._timers, (item[1], next(self._seq), item[2]))
        else:
            _, type, gr, obj = item
            for controller in self.controllers:
                if controller.watches is not None and gr not in controller.watches:
                    continue
                # obj is the store's own: a controller that may edit what it gets works on a copy.
                mine = obj if controller.reads_only else copy_json(obj)
                self._guard(controller, "on_event", lambda c=controller, o=mine: c.on_event(type, gr, o))

    def _resync(self) -> None:
        for controller in self.controllers:
            self._guard(controller, "resync", controller.resync)

    def _run_due_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, fn = heapq.heappop(self._timers)
            self._guard(None, "timer", fn)

    def _guard(self, controller: Controller | None, what: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - one broken controller must not stop the cluster
            self.errors += 1
            name = controller.name if controller else getattr(fn, "__qualname__", "timer")
            LOG.exception("[%s] controller %s failed in %s", self.settings.cluster_name, name, what)
