"""The simulated istiod: GatewayClasses, Gateway deployments and Gateway API status.

It does nothing until Deployment istiod in istio-system is Ready and the Gateway API CRDs exist
(in either order, no restart), like Istio's delayed informers. Every relevant change schedules
one full reconcile of the (small) cluster; writes happen only when something differs, so the
writes' own events settle after one more pass.
"""

from __future__ import annotations

from typing import Any

from tutorial.sandbox.istio import deployment as deploy
from tutorial.sandbox.istio import status as st
from tutorial.sandbox.istio.binding import istio_manages
from tutorial.sandbox.istio.model import (BUILTIN_CLASSES, CRDS, DEPLOYMENTS, ENDPOINTS, ENDPOINTSLICES,
                                          GATEWAYCLASSES, GATEWAYS, GROUP, HTTPROUTES, ISTIO_NAMESPACE, NAMESPACES, PODS,
                                          PROXY_IMAGE, REFERENCEGRANTS, SECRETS, SERVICEACCOUNTS, SERVICES, World,
                                          gateway_crds_present, grpcroute_watch_error, istiod_ready, key, meta,
                                          strip_times)
from tutorial.sandbox.dataplane.addresses import problems_for
from tutorial.sandbox.controllers.runtime import Controller

INJECTION_LABEL = "istio-injection"
WEBHOOKS = ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
INJECTOR_WEBHOOK = "istio-sidecar-injector"
PENDING_ANNOTATION = "sandbox.gateway-tutorial/injection-pending"
PROBLEM_POLL_SECONDS = 5.0


def contains(existing: Any, desired: Any) -> bool:
    """True when every field of desired is already present, equal, in existing."""
    if isinstance(desired, dict):
        return isinstance(existing, dict) and all(contains(existing.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(existing, list) and len(existing) == len(desired)
                and all(contains(e, d) for e, d in zip(existing, desired)))
    return existing == desired


def merge(existing: Any, desired: Any) -> Any:
    """Desired fields laid over existing ones (dicts merge, lists and scalars are replaced)."""
    if isinstance(existing, dict) and isinstance(desired, dict):
        out = dict(existing)
        for k, v in desired.items():
            out[k] = merge(existing.get(k), v)
        return out
    return desired


def _keep_node_ports(old: dict, new: dict) -> None:
    """Allocated nodePorts survive our re-apply, as they do with server-side apply."""
    by_name = {p.get("name"): p for p in (old.get("spec") or {}).get("ports") or []}
    for port in (new.get("spec") or {}).get("ports") or []:
        prev = by_name.get(port.get("name"))
        if prev and prev.get("nodePort") and "nodePort" not in port:
            port["nodePort"] = prev["nodePort"]


class IstiodController(Controller):
    """Istio's gateway class, deployment and status controllers, on the sandbox store."""

    name = "istiod"
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy
    watches = frozenset({GATEWAYCLASSES, GATEWAYS, HTTPROUTES, REFERENCEGRANTS, SERVICES, ENDPOINTS,
                         NAMESPACES, DEPLOYMENTS, CRDS, PODS, SECRETS, ENDPOINTSLICES})

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._pending = False
        self._polling = False
        self.active = False

    def resync(self) -> None:
        self.reconcile()

    def on_event(self, type: str, gr: tuple[str, str], obj: dict) -> None:
        if gr == PODS:
            if type == "ADDED":
                self._inject(obj)
            return
        if gr == DEPLOYMENTS and key(obj) != (ISTIO_NAMESPACE, "istiod"):
            return
        if not self._pending:
            self._pending = True
            self.ctx.schedule(0, self._run)

    def _run(self) -> None:
        self._pending = False
        self.reconcile()
        if problems_for(self.ctx.store) and not self._polling:
            # A port another program holds may be freed without any store change: look again.
            self._polling = True
            self.ctx.schedule(PROBLEM_POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        self._polling = False
        if not self._pending:
            self._run()

    def reconcile(self) -> None:
        store = self.ctx.store
        if istiod_ready(store):
            self._inject_pending()
        watch_error = grpcroute_watch_error(store) if istiod_ready(store) else None
        if watch_error:
            self._log_on_istiod_pods(watch_error)
        active = istiod_ready(store) and gateway_crds_present(store) and not watch_error
        if active != self.active:
            self.active = active
            self.ctx.log("istiod: gateways.gateway.networking.k8s.io is now ready, building client"
                         if active else "istiod: not ready or Gateway API CRDs missing; Gateway API idle")
        if not active:
            return
        self._ensure_classes()
        world = World.from_store(store)
        for gc in world.classes.values():
            self._write_status(GATEWAYCLASSES, gc, st.class_status(gc))
        for gw in world.gateways:
            if istio_manages(world, gw) and st.is_managed(gw):
                self._provision(gw)
        from tutorial.sandbox.dataplane import proxy

        proxy.sync_for(store)  # listeners first: an address must answer once it is published
        world = World.from_store(store)  # after the sync: it may have taken a port that was busy
        for gw in world.gateways:
            self._write_status(GATEWAYS, gw, st.gateway_status(world, gw))
        for route in world.routes:
            self._write_status(HTTPROUTES, route, st.route_status(world, route))

    def _log_on_istiod_pods(self, line: str) -> None:
        """What `kubectl logs -n istio-system deploy/istiod` shows for an istiod too old for the CRDs."""
        from tutorial.sandbox.controllers.pods import LOG_ANNOTATION

        store = self.ctx.store
        for pod in store.list(PODS, ISTIO_NAMESPACE, label_selector="app=istiod")[0]:
            annotations = pod["metadata"].setdefault("annotations", {})
            text = annotations.get(LOG_ANNOTATION, "")
            if line in text:
                continue
            annotations[LOG_ANNOTATION] = (text.rstrip("\n") + "\n" if text else "") + line + "\n"
            self._guarded(lambda p=pod: store.update(PODS, p), f"log on pod {pod['metadata']['name']}")

    def _ensure_classes(self) -> None:
        store = self.ctx.store
        for name, (controller, description) in BUILTIN_CLASSES.items():
            if store.peek(GATEWAYCLASSES, None, name) is not None:
                continue
            obj = {"apiVersion": f"{GROUP}/v1", "kind": "GatewayClass", "metadata": {"name": name},
                   "spec": {"controllerName": controller, "description": description}}
            self._guarded(lambda o=obj: store.create(GATEWAYCLASSES, o), f"create GatewayClass {name}")

    def _provision(self, gw: dict) -> None:
        """Annotate the Gateway and apply its ServiceAccount, Deployment and Service."""
        anno, value = deploy.version_annotation()
        if (meta(gw).get("annotations") or {}).get(anno) != value:
            fresh = self.ctx.store.get(GATEWAYS, *key(gw))
            if fresh is not None:
                fresh["metadata"].setdefault("annotations", {})[anno] = value
                fresh["metadata"].pop("resourceVersion", None)
                self._guarded(lambda: self.ctx.store.update(GATEWAYS, fresh), "annotate Gateway")
        self._apply(SERVICEACCOUNTS, deploy.service_account(gw))
        self._apply(DEPLOYMENTS, deploy.deployment(gw))
        self._apply(SERVICES, deploy.service(gw))

    def _apply(self, gr: tuple[str, str], desired: dict) -> None:
        store = self.ctx.store
        ns, name = key(desired)
        existing = store.get(gr, ns, name)
        if existing is None:
            obj = dict(desired)
            if gr == DEPLOYMENTS:
                obj["spec"] = {"replicas": 1, **obj["spec"]}
            self._guarded(lambda: store.create(gr, obj), f"create {desired['kind']} {ns}/{name}")
            return
        if contains(existing, desired):
            return
        new = merge(existing, desired)
        if gr == SERVICES:
            _keep_node_ports(existing, new)
        self._guarded(lambda: store.update(gr, new), f"update {desired['kind']} {ns}/{name}")

    def _write_status(self, gr: tuple[str, str], obj: dict, status: dict | None) -> None:
        if status is None or strip_times(status) == strip_times(obj.get("status")):
            return
        new = {**obj, "metadata": {k: v for k, v in meta(obj).items() if k != "resourceVersion"},
               "status": status}
        self._guarded(lambda: self.ctx.store.update(gr, new, subresource="status"),
                      f"status of {key(obj)[0]}/{key(obj)[1]}")

    def _inject(self, pod: dict) -> None:
        """The sidecar injector webhook: `image: auto` becomes the proxy image.

        Without the injector's webhook configuration the pod keeps `auto` and never pulls (FACTS
        I01). With it but istiod not Ready yet, real pod creation fails and the ReplicaSet
        retries; here the pod is marked and injected once istiod is Ready.
        """
        containers = (pod.get("spec") or {}).get("containers") or []
        if not any(c.get("image") == "auto" for c in containers):
            return
        store = self.ctx.store
        if store.get(WEBHOOKS, None, INJECTOR_WEBHOOK) is None:
            return
        ns = store.get(NAMESPACES, None, key(pod)[0]) or {}
        if (meta(ns).get("labels") or {}).get(INJECTION_LABEL) == "disabled":
            return
        fresh = store.get(PODS, *key(pod))
        if fresh is None:
            return
        if istiod_ready(store):
            for c in fresh["spec"].get("containers") or []:
                if c.get("image") == "auto":
                    c["image"] = PROXY_IMAGE
            fresh["metadata"].get("annotations", {}).pop(PENDING_ANNOTATION, None)
        elif (meta(fresh).get("annotations") or {}).get(PENDING_ANNOTATION):
            return
        else:
            fresh["metadata"].setdefault("annotations", {})[PENDING_ANNOTATION] = "true"
        fresh["metadata"].pop("resourceVersion", None)
        self._guarded(lambda: store.update(PODS, fresh), "inject gateway pod")

    def _inject_pending(self) -> None:
        for pod in self.ctx.store.view(PODS):  # read only: _inject changes a fresh copy
            if (meta(pod).get("annotations") or {}).get(PENDING_ANNOTATION):
                self._inject(pod)

    def _guarded(self, fn, what: str) -> None:
        """A store write that may lose a race; the next event retries, so only log it."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - a lost race must not stop the reconcile
            self.ctx.log(f"istiod: {what} failed: {exc}")
