"""Switchable faults of one sandbox cluster: what breaks, and how the controllers and API show it.

Faults are named like the failures learners meet on real clusters (image pulls, no load
balancer, istiod unschedulable, ...). They switch on and off while the cluster runs; listeners
(the controller runtime) are told so the next reconcile shows the new behaviour.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from typing import Any, Callable, Iterable

# name -> (parameter that "name=value" sets, default parameters, one-line description)
FAULTS: dict[str, tuple[str | None, dict[str, Any], str]] = {
    "image-pull": ("images", {"images": ["emojivoto"]},
                   "images whose name contains one of these substrings fail to pull"),
    "no-lb": (None, {}, "LoadBalancer Services never get an external address"),
    "lb-unreachable": (None, {}, "LoadBalancer addresses are assigned but nothing answers on them from this "
                       "machine (MetalLB on Docker Desktop)"),
    "istiod-unschedulable": (None, {}, "istiod pods stay Pending: Insufficient memory"),
    "slow-controllers": ("factor", {"factor": 5.0}, "every controller delay is multiplied"),
    "crashloop": ("selector", {"selector": "app=web-svc"},
                  "containers of pods matching the label selector crash at start"),
    "flaky-api": ("rate", {"rate": 0.2}, "a share of API requests fail with 500, watches drop"),
    "api-unreachable": (None, {}, "the API server refuses every connection"),
    "api-latency": ("delay", {"delay": "30ms", "jitter": None},
                    "every API request and watch event waits a network round trip (delay, +- jitter; "
                    "default jitter a tenth of the delay)"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$")


class FaultError(ValueError):
    """A fault name or parameter that does not exist; the message lists what does."""


def _known() -> str:
    return ", ".join(sorted(FAULTS))


def _normalize(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled in and values typed: images a list, factor and rate floats."""
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; known faults: {_known()}")
    _, defaults, _ = FAULTS[name]
    unknown = set(params) - set(defaults)
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise FaultError(f"fault {name!r} has no parameter {sorted(unknown)[0]!r} (parameters: {allowed})")
    out = dict(defaults)
    out.update(params)
    if "images" in out and isinstance(out["images"], str):
        out["images"] = [s.strip() for s in out["images"].split(",") if s.strip()]
    for key in ("factor", "rate"):
        if key in out:
            try:
                out[key] = float(out[key])
            except (TypeError, ValueError):
                raise FaultError(f"fault {name!r}: {key} must be a number, got {out[key]!r}") from None
    if name == "api-latency":
        out["delay"] = _duration(name, "delay", out["delay"])
        jitter = out["jitter"]
        out["jitter"] = _duration(name, "jitter", jitter) if jitter is not None else \
            _format_ms(_seconds(out["delay"]) / 10)
    if "rate" in out and not 0.0 <= out["rate"] <= 1.0:
        raise FaultError(f"fault {name!r}: rate must be between 0 and 1, got {out['rate']}")
    return out


def _duration(name: str, key: str, value: Any) -> str:
    """'30ms', '0.03s' or '30' (milliseconds) -> the canonical '30ms'; FaultError otherwise."""
    match = _DURATION.match(str(value))
    if not match:
        raise FaultError(f"fault {name!r}: {key} must be a duration like 30ms or 0.5s, got {value!r}")
    number = float(match.group(1))
    return _format_ms(number if match.group(2) in (None, "ms") else number * 1000, seconds=False)


def _format_ms(value: float, *, seconds: bool = True) -> str:
    ms = value * 1000 if seconds else value
    return f"{ms:g}ms"


def _seconds(canonical: str) -> float:
    return float(canonical[:-2]) / 1000


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Parse "name", "name=value" or "name:key=value,key=value" into (name, params).

    A comma-separated piece without "=" continues the previous value, so
    "image-pull:images=web,voting" keeps both images.
    """
    spec = spec.strip()
    if ":" in spec:
        name, rest = spec.split(":", 1)
        params: dict[str, Any] = {}
        last = None
        for piece in rest.split(","):
            if "=" in piece:
                last, value = (s.strip() for s in piece.split("=", 1))
                params[last] = value
            elif last is not None and piece.strip():
                params[last] = f"{params[last]},{piece.strip()}"
            elif piece.strip():
                raise FaultError(f"fault {spec!r}: expected key=value after ':', got {piece!r}")
        return name.strip(), params
    if "=" in spec:
        name, value = (s.strip() for s in spec.split("=", 1))
        key = FAULTS.get(name, (None,))[0]
        if key is None:
            raise FaultError(f"fault {name!r} takes no value (known faults: {_known()})")
        return name, {key: value}
    return spec, {}


class FaultSet:
    """The active faults of one cluster; thread-safe, with change listeners."""

    def __init__(self, rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._rng = rng or random.Random()
        self._sleep = sleep  # tests pass a recorder: they check what is delayed, never how long it took

    @classmethod
    def parse(cls, specs: Iterable[str] | None) -> "FaultSet":
        """A FaultSet with each spec ("name", "name=value", "name:k=v,k=v") enabled."""
        faults = cls()
        for spec in specs or ():
            name, params = parse_spec(spec)
            faults.enable(name, **params)
        return faults

    def enable(self, name: str, **params: Any) -> None:
        """Switch a fault on (or change its parameters); listeners are told."""
        value = _normalize(name, params)
        with self._lock:
            if self._active.get(name) == value:
                return  # unchanged: no resync storm when the same fault is enabled again
            self._active[name] = value
        self._notify()

    def disable(self, name: str) -> None:
        """Switch a fault off; unknown names raise, inactive ones are a no-op."""
        _normalize(name, {})
        with self._lock:
            removed = self._active.pop(name, None)
        if removed is not None:
            self._notify()

    def active(self, name: str) -> dict[str, Any] | None:
        """The fault's parameters if it is on, else None."""
        with self._lock:
            value = self._active.get(name)
            return dict(value) if value is not None else None

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._active)

    def describe(self) -> list[str]:
        """Human-readable "name (k=v)" strings for the active faults."""
        out = []
        for name in self.names():
            params = self.active(name) or {}
            shown = ", ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in params.items())
            out.append(f"{name} ({shown})" if shown else name)
        return out

    def subscribe(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Call fn after every change; returns an unsubscribe function."""
        with self._lock:
            self._listeners.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._listeners:
                    self._listeners.remove(fn)
        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for fn in listeners:
            fn()

    # Questions the API server asks on every request / watch.
    def api_error_now(self) -> bool:
        """True when this request should fail with a 500 (flaky-api)."""
        flaky = self.active("flaky-api")
        return bool(flaky) and self._rng.random() < flaky["rate"]

    def drop_watch_now(self) -> bool:
        """True when an open watch stream should be cut now (flaky-api)."""
        flaky = self.active("flaky-api")
        return bool(flaky) and self._rng.random() < flaky["rate"]

    def unreachable(self) -> bool:
        """True while the API server must refuse connections (api-unreachable)."""
        return self.active("api-unreachable") is not None

    def latency_now(self) -> float:
        """Seconds this request or event waits (api-latency: delay +- jitter, uniform); 0 when off."""
        fault = self.active("api-latency")
        if not fault:
            return 0.0
        delay, jitter = _seconds(fault["delay"]), _seconds(fault["jitter"])
        return max(0.0, delay + self._rng.uniform(-jitter, jitter)) if jitter else delay

    def delay_request(self) -> None:
        """Wait as long as a round trip to a remote API server would (api-latency)."""
        seconds = self.latency_now()
        if seconds > 0:
            self._sleep(seconds)

    def delayed(self, watch) -> "DelayedWatch":
        """The watch's events, each handed out a network delay after it happened (api-latency)."""
        return DelayedWatch(watch, self)

    # Questions the controllers ask.
    def image_fails(self, image: str) -> bool:
        """True when pulling this image should fail (image-pull)."""
        fault = self.active("image-pull")
        return bool(fault) and any(s in image for s in fault["images"])

    def slow_factor(self) -> float:
        fault = self.active("slow-controllers")
        return fault["factor"] if fault else 1.0


class DelayedWatch:
    """A store watch seen across a network: each event comes out `latency_now()` after it happened.

    Events are delayed, not slowed: a burst stays a burst (each has its own due time), and they keep
    their order, as on one TCP stream. With api-latency off an event is due at once. Offers the
    Watch interface the watch stream uses: next(timeout), close(), and _queue.empty().
    """

    def __init__(self, watch, faults: FaultSet) -> None:
        self._watch, self._faults = watch, faults
        self._due: deque = deque()  # (monotonic due time, event), in order
        self._queue = self  # the stream asks `w._queue.empty()` before sending a bookmark

    def empty(self) -> bool:
        return not self._due and self._watch._queue.empty()

    def next(self, timeout: float | None = None):
        """The next event once it is due, or None after timeout seconds (or when closed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self._due and self._due[0][0] <= now:
                return self._due.popleft()[1]
            waits = [t - now for t in (deadline, self._due[0][0] if self._due else None) if t is not None]
            if deadline is not None and deadline <= now:
                return None
            event = self._watch.next(timeout=max(0.0, min(waits)) if waits else None)
            if event is not None:
                last = self._due[-1][0] if self._due else 0.0
                self._due.append((max(last, time.monotonic() + self._faults.latency_now()), event))
            elif self._watch.closed:  # nothing more will come: hand out what is still in flight
                if not self._due:
                    return None
                time.sleep(max(0.0, min(waits)))

    def close(self) -> None:
        self._watch.close()

    @property
    def closed(self) -> bool:
        return self._watch.closed
