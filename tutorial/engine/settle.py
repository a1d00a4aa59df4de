"""Still converging or settled wrong: what a waiting check sees, and when to stop waiting.

A check waits on the watch API until its condition holds. Many failures, though, are *settled*:
the cluster will not change them by itself (a route NotAllowedByListeners, an image that cannot be
pulled, a Deployment scaled to 0). `Watch` follows one check: it judges each state the watch
delivers against the terminal states listed as data in explain_rules/terminal.yaml, keeps a live
one-line observation for the learner ("Gateway emojivoto: Programmed False (AddressNotAssigned),
for 12 s"), and stops the wait as soon as the state is settled. Nothing here imports textual.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from tutorial.engine.terminal import (HttpRepeat, _conds, _cond_text, _is_problem, _list, _meta, _pending, _where,
                                      _age, condition_holders, generation_current, observation_line, pod_terminal,
                                      rolling_out, routes_attached, superseded, terminal_condition, terminal_data)

__all__ = ["Watch", "StepFailure", "HttpRepeat", "pod_terminal", "observation_line", "routes_attached",
           "terminal_data"]

TICK = 0.25  # seconds between time-based re-judgements (graces, missing objects, the parent's cancel)


class StepFailure:
    """Shared by the checks of one step: once one has failed settled, the others stop waiting (the
    step has failed whatever they would see) and say which check decided it."""

    def __init__(self):
        self.event, self.why = threading.Event(), ""

    def fail(self, why: str) -> None:
        if not self.event.is_set():
            self.why = why
            self.event.set()

class Watch:
    """Follows one waiting check: live observation, settled verdict, and a stop event for its waits."""

    def __init__(self, check_kind: str, params: dict, *, ran: bool = False,
                 cancel: threading.Event | None = None, on_observe: Callable[[str, float], None] | None = None,
                 step_failure: StepFailure | None = None, ticking: bool = True):
        self.kind, self.params, self.ran = check_kind, params, ran
        # False for a check that looks once (timeout 0): nothing to re-judge while it waits, and a
        # status of 100 clusters started 2,400 ticker threads for nothing (2.5% of its CPU profile)
        self.ticking = ticking
        self.step_failure = step_failure
        self.by_sibling = False
        self.parent = cancel
        self.stop = threading.Event()
        self.settled: str | None = None
        self.observation, self.since = "", time.monotonic()
        self.started = time.monotonic()
        self.object_kind = ""
        self._lookups: dict = {}
        self._pods: list[dict] | None = None
        self.client = None  # set by run_check: lookups for objects waiting on something missing
        self._items: list[dict] = []
        self._judged = self._passed = False  # the ticker re-judges only what a wait has delivered
        self._told = 0.0
        self._first_seen: dict[str, float] = {}
        self._on_observe = on_observe
        self._lock = threading.Lock()
        self._ticker = threading.Thread(target=self._tick_loop, name="check-watch", daemon=True)

    # -- lifetime ---------------------------------------------------------------------
    def __enter__(self) -> "Watch":
        if self.ticking:
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.ticking:
            self._ticker.join(timeout=2)

    @property
    def cancelled(self) -> bool:
        return self.parent is not None and self.parent.is_set()

    def _tick_loop(self) -> None:
        while not self.stop.wait(TICK):
            if self.cancelled:
                self.stop.set()
                return
            if self.step_failure is not None and self.step_failure.event.is_set() and self.settled is None:
                self.by_sibling = True
                self.settle(f"stopped waiting: {self.step_failure.why}")
                return
            with self._lock:
                items, judged = list(self._items), self._judged and not self._passed
                pods = self._pods
            if judged:
                self._judge_settled(items)
            if pods is not None and self.settled is None:  # a rollout that finished settles pods seen before
                why = self.pods_settled(pods, items)
                if why:
                    self.settle(why)

    # -- what the watch delivers ---------------------------------------------------------
    def judge(self, judge: Callable[[list[dict]], bool], kind: str = "") -> Callable[[list[dict]], bool]:
        """`judge` for wait_for, extended: a settled state also ends the wait (the check then fails).
        `kind` is the watched kind (items of a list response do not always carry it)."""
        self.object_kind = kind

        def extended(items: list[dict]) -> bool:
            with self._lock:
                self._items, self._judged = list(items), True
            if judge(items):
                self._passed = True
                return True
            self._judge_settled(items)
            return self.settled is not None
        return extended

    def note_pods(self, pods: list[dict]) -> None:
        """The pods beside the judged objects (sentinel.pod_sentinel), re-judged on every tick."""
        with self._lock:
            self._pods = list(pods)

    def items(self) -> list[dict]:
        """The objects the check's wait saw last."""
        with self._lock:
            return list(self._items)

    def pods_settled(self, pods: list[dict], deployments: list[dict] | None = None) -> str | None:
        """Why these pods will not become ready by themselves (after the data's grace), or None;
        pods a rollout is replacing, and Deployments mid-rollout, are still converging."""
        if deployments and rolling_out(deployments):
            return None
        grace = float(terminal_data().get("pod_waiting", {}).get("grace") or 0)
        for pod in pods:
            why = pod_terminal(pod)
            if why and not superseded(pod, pods):
                stood = time.monotonic() - self._first_seen.setdefault(f"pod/{why}", time.monotonic())
                if stood >= grace:
                    return why
        return None

    def settle(self, why: str) -> None:
        if self.settled is None and not self.cancelled:
            self.settled = why
            self.stop.set()

    def observe(self, text: str) -> None:
        """Record what the check sees now; tell the listener on a change, else once a second."""
        now = time.monotonic()
        changed = bool(text) and text != self.observation
        if changed:
            self.observation, self.since = text, now
        if self._on_observe is not None and self.observation and (changed or now - self._told >= 1.0):
            self._told = now
            try:
                self._on_observe(self.observation, self.since)
            except Exception:  # a listener's trouble must not stop the check
                pass

    def _judge_settled(self, items: list[dict]) -> None:
        try:
            why, text = self.assess(items)
        except (AttributeError, TypeError, ValueError, KeyError):  # an object of an unexpected shape
            return
        self.observe(text)
        if why:
            self.settle(why)

    # -- the judgement ----------------------------------------------------------------------
    def assess(self, items: list[dict]) -> tuple[str | None, str]:
        """(why the state is settled or None, what the check sees now)."""
        if self.kind == "crd_established":
            return self._crds_missing(items)
        if not items:
            return self._missing(), self._missing_text()
        first_problem = ""
        for obj in items:
            why, text = self._assess_object(obj)
            if why:
                return why, text
            first_problem = first_problem or text
        return None, first_problem or f"{_where(items[0])}: not there yet"

    def _crds_missing(self, items: list[dict]) -> tuple[str | None, str]:
        have = {_meta(o).get("name") for o in items}
        gone = [n for n in self.params.get("names") or [] if n not in have]
        if not gone:
            return None, ""
        text = f"CRD(s) not installed: {', '.join(gone)}"
        grace = float((terminal_data().get("missing_after_commands") or {}).get("grace", 3))
        return (text if time.monotonic() - self.started >= grace else None), text

    def _unresolved(self, obj: dict, kind: str) -> tuple[str | None, str]:
        """Objects waiting for something that does not exist: a Gateway whose class no controller
        claims, a class naming an unknown controller, a route whose parent Gateway is not there."""
        if self.client is None:
            return None, ""
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        rules = terminal_data().get("unresolved") or {}
        known = rules.get("controllers") or []
        if kind == "GatewayClass" and _pending(obj) and spec.get("controllerName") not in known:
            return self._stood(f"GatewayClass {_meta(obj).get('name')}: controllerName {spec.get('controllerName')} "
                               "is claimed by no controller here (Accepted stays Unknown, Waiting for controller)")
        # pending: no controller ever decided; stale: the class was changed after a controller
        # decided, and no controller owns the new one, so the old status is never rewritten
        if kind == "Gateway" and (_pending(obj) or not generation_current(obj)):
            name = spec.get("gatewayClassName")
            gc = self._get("gateway.networking.k8s.io/v1", "GatewayClass", None, name)
            controller = ((gc or {}).get("spec") or {}).get("controllerName")
            if (gc is None and name not in (rules.get("builtin_classes") or [])) or (gc and controller not in known):
                what = "does not exist" if gc is None else f"names controller {controller}, which no controller here claims"
                stays = ("Accepted stays Unknown, Waiting for controller" if _pending(obj) else
                         "its status is from before that change and no controller will update it: "
                         f"observedGeneration stays behind generation {_meta(obj).get('generation')}")
                return self._stood(f"Gateway {_meta(obj).get('name')}: its GatewayClass {name} {what} ({stays})")
        if kind == "HTTPRoute" and not _list((obj.get("status") or {}).get("parents") if isinstance(obj.get("status"), dict) else None):
            for ref in _list(spec.get("parentRefs")):
                ns = ref.get("namespace") or _meta(obj).get("namespace")
                if ref.get("kind", "Gateway") == "Gateway" and \
                        self._get("gateway.networking.k8s.io/v1", "Gateway", ns, ref.get("name")) is None:
                    return self._stood(f"HTTPRoute {_meta(obj).get('name')}: its parentRef names Gateway "
                                       f"{ns}/{ref.get('name')}, which does not exist (status.parents stays empty)")
        return None, ""

    def _get(self, api_version: str, kind: str, ns, name):
        """A lookup, answered from a one-second cache (the ticker asks four times a second)."""
        key, now = (kind, ns, name), time.monotonic()
        cached = self._lookups.get(key)
        if cached is not None and now - cached[0] < 1.0:
            return cached[1]
        try:
            found = self.client.get(self.client.resource(api_version, kind), ns, name) if name else None
        except Exception:  # a lookup the cluster refuses decides nothing
            found = {}
        self._lookups[key] = (now, found)
        return found

    def _stood(self, text: str) -> tuple[str | None, str]:
        grace = float((terminal_data().get("unresolved") or {}).get("grace", 3))
        seen = time.monotonic() - self._first_seen.setdefault(text, time.monotonic())
        return (text if seen >= grace else None), text

    def _object_kind(self) -> str:
        return (self.params.get("object_kind") or self.object_kind
                or {"gateway_programmed": "Gateway", "route_accepted": self.params.get("route_kind", "HTTPRoute"),
                    "listener_attached_routes": "Gateway", "namespace_exists": "Namespace",
                    "crd_established": "CustomResourceDefinition"}.get(self.kind) or "object")

    def _missing_text(self) -> str:
        p = self.params
        name = p.get("name") or p.get("gateway") or p.get("selector") or ", ".join(p.get("names") or [])
        where = f" in namespace {p['namespace']}" if p.get("namespace") else ""
        return f"{self._object_kind()} {name}{where}: not found yet"

    def _missing(self) -> str | None:
        spec = terminal_data().get("missing_after_commands") or {}
        kind = self._object_kind()
        if kind not in (spec.get("kinds") or []):
            return None
        if time.monotonic() - self.started < float(spec.get("grace", 3)):
            return None
        after = " after the step's commands succeeded" if self.ran else ""
        return f"{self._missing_text().replace(' yet', '')}{after}"

    def _assess_object(self, obj: dict) -> tuple[str | None, str]:
        if not obj.get("kind") and self.object_kind:
            obj = {**obj, "kind": self.object_kind}
        if obj.get("kind") == "Pod":
            why = self.pods_settled([obj] + [o for o in self._items if o is not obj])
            return (why, why) if why else (None, pod_terminal(obj) or "")
        if obj.get("kind") == "Deployment":
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            if spec.get("replicas") == 0:
                why = f"Deployment {_meta(obj).get('name')} is scaled to 0 replicas"
                return why, why
        why, text = self._unresolved(obj, obj.get("kind") or "")
        if text:
            return why, text
        first = ""
        for kind, where, holder in condition_holders(obj):
            for cond in _conds(holder):
                text = _cond_text(where, cond)
                entry = terminal_condition(kind, cond)
                if entry is None:
                    if _is_problem(cond):
                        first = first or text
                    continue
                if not generation_current(obj, holder):
                    first = first or f"{text}, waiting for the controller to see the latest change"
                    continue
                if self._graced(where, cond, entry):
                    return text + (f": {cond['message']}" if cond.get("message") else ""), text
                first = first or text
        return None, first


    def _graced(self, where: str, cond: dict, entry: dict) -> bool:
        key = f"{where}/{cond.get('type')}/{cond.get('reason')}"
        seen = time.monotonic() - self._first_seen.setdefault(key, time.monotonic())
        # a condition whose cause may lie in another object (a route's parent Gateway, just fixed)
        # can be stale however long it has stood: this check must see it for seen_grace first
        if seen < float(entry.get("seen_grace") or 0):
            return False
        grace = float(entry.get("grace") or 0)
        if grace <= 0:
            return True
        stood = _age(cond.get("lastTransitionTime"))
        return max(seen, stood or 0.0) >= grace
