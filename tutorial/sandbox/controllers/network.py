"""Services: ClusterIPs, node ports, LoadBalancer addresses, Endpoints and EndpointSlices.

Each LoadBalancer Service gets its own loopback address, as a cloud gives each its own load
balancer: the cluster's settings.lb_address when one is asked for and free, else the next free
address of this process's own block (`addresses.SPACE`). An address is published only once this
process holds a listening socket on every port of the Service (`addresses.PortBank`), so no
other sandbox or program answers for it. The no-lb fault leaves Services <pending>.
"""

from __future__ import annotations

import hashlib

from tutorial.sandbox.dataplane import addresses
from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.controllers.podstatus import IpPool
from tutorial.sandbox.controllers.workloads import is_ready, namespace_active
from tutorial.sandbox.controllers.runtime import Controller

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY = {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}


def _has_cluster_ip(svc: dict) -> bool:
    spec = svc.get("spec") or {}
    return spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None"


class ServiceController(Controller):
    """Allocates ClusterIPs and node ports, and plays the cloud load balancer."""

    name = "service"
    reads_only = True  # on_event only reads the object; what it changes is a fresh store.get copy
    watches = frozenset({u.SERVICES})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._ips = IpPool("10.96", start=11)
        self._lb_pending: set[str] = set()

    def resync(self) -> None:
        services = self.ctx.store.list(u.SERVICES)[0]
        self._ips.reserve((s.get("spec") or {}).get("clusterIP") for s in services)
        self._lb_pending.clear()
        for svc in services:
            self.reconcile(svc)

    def on_event(self, type: str, gr, obj: dict) -> None:
        if type == "DELETED":
            self._ips.release((obj.get("spec") or {}).get("clusterIP"))
            if _ingress_ip(obj):
                self._release(_ingress_ip(obj))
            return
        fresh = self.ctx.store.get(u.SERVICES, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if fresh is not None:  # events may be stale; decide on the stored object
            self.reconcile(fresh)

    def reconcile(self, svc: dict) -> None:
        if svc["metadata"].get("deletionTimestamp"):
            return
        spec = svc.get("spec") or {}
        self._ips.reserve([spec.get("clusterIP")])  # a clusterIP chosen by the user is taken too
        if _has_cluster_ip(svc) and not spec.get("clusterIP") or self._needs_node_ports(svc):
            self._allocate(svc)
            return  # the MODIFIED event brings the service back here
        self._load_balancer(svc)

    @staticmethod
    def _needs_node_ports(svc: dict) -> bool:
        spec = svc.get("spec") or {}
        return spec.get("type") in ("NodePort", "LoadBalancer") and \
            any(not p.get("nodePort") for p in spec.get("ports") or [])

    def _allocate(self, svc: dict) -> None:
        new = st.copy_json(svc)
        spec = new.setdefault("spec", {})
        if _has_cluster_ip(svc) and not spec.get("clusterIP"):
            spec["clusterIP"] = self._ips.allocate()
            spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
            used = {p.get("nodePort") for s in self.ctx.store.list(u.SERVICES)[0]
                    for p in (s.get("spec") or {}).get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = _free_node_port(svc, port, used)
                    used.add(port["nodePort"])
        u.safe(lambda: self.ctx.store.update(u.SERVICES, new))

    def _load_balancer(self, svc: dict) -> None:
        """Give LoadBalancer Services an ingress address after a delay, unless no-lb is on."""
        is_lb = (svc.get("spec") or {}).get("type") == "LoadBalancer"
        status = st.copy_json(svc.get("status") or {})
        has = _ingress_ip(svc)
        if not is_lb or self.ctx.faults.active("no-lb") is not None:
            if has:  # type changed away from LoadBalancer, or the fault was switched on
                self._release(has)
                status["loadBalancer"] = {}
                u.write_status(self.ctx.store, u.SERVICES, svc, status)
            return
        uid = svc["metadata"]["uid"]
        if has:
            self._keep(svc, has)
            return
        if uid in self._lb_pending:
            return
        self._lb_pending.add(uid)
        self.ctx.record_event(svc, "Normal", "EnsuringLoadBalancer", "Ensuring load balancer",
                              "service-controller")
        ns, name = svc["metadata"].get("namespace"), svc["metadata"]["name"]
        self.ctx.schedule(self.ctx.delay(self.ctx.settings.lb_delay), lambda: self._assign(ns, name, uid))

    def _assign(self, ns: str | None, name: str, uid: str) -> None:
        self._lb_pending.discard(uid)
        svc = self.ctx.store.get(u.SERVICES, ns, name)
        if svc is None or svc["metadata"]["uid"] != uid or self.ctx.faults.active("no-lb") is not None:
            return
        if (svc.get("spec") or {}).get("type") != "LoadBalancer" or _ingress_ip(svc):
            return
        address = self._hold_free_address(svc)
        if address is None:
            self.ctx.record_event(svc, "Warning", "SyncLoadBalancerFailed", "SIMULATED load balancer: no "
                                  "loopback address with all of this Service's ports free; retrying",
                                  "service-controller")
            self.ctx.schedule(RETRY_SECONDS, lambda: self._reassign(ns, name))
            return
        status = st.copy_json(svc.get("status") or {})
        status["loadBalancer"] = {"ingress": [{"ip": address, "ipMode": "VIP"}]}
        if u.write_status(self.ctx.store, u.SERVICES, svc, status) is not None:
            self.ctx.record_event(svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer",
                                  "service-controller")
        else:
            self._release(address)

    def _reassign(self, ns: str | None, name: str) -> None:
        svc = self.ctx.store.get(u.SERVICES, ns, name)
        if svc is not None:
            self._assign(ns, name, svc["metadata"]["uid"])

    def _hold_free_address(self, svc: dict) -> str | None:
        """The first candidate address on which every port of svc can be held now (then held)."""
        bank, ports = addresses.bank_for(self.ctx.store), lb_ports(svc)
        taken = self._taken_by_others(svc)
        preferred = [self.ctx.settings.lb_address] if self.ctx.settings.lb_address else []
        for tries, candidate in enumerate(_chain(preferred, addresses.SPACE.candidates())):
            if tries > MAX_CANDIDATES:
                return None
            if candidate in taken or (bank.held_ports(candidate) and candidate != addresses.FALLBACK):
                continue
            if bank.hold_all(candidate, ports) is None:
                addresses.SPACE.take(candidate)
                return candidate
            if candidate == addresses.FALLBACK:
                return None
        return None

    def _taken_by_others(self, svc: dict) -> set:
        return {_ingress_ip(other) for other in self.ctx.store.list(u.SERVICES)[0]
                if other["metadata"]["uid"] != svc["metadata"]["uid"]} - {None}

    def _keep(self, svc: dict, address: str) -> None:
        """Hold every port of a Service that has its address; a lost address is given up for a new one.

        Ports added later that cannot be had stay recorded in the bank's problems (the Gateway
        status says so); a restored address none of whose ports can be had any more is replaced.
        """
        bank, ports = addresses.bank_for(self.ctx.store), lb_ports(svc)
        addresses.SPACE.take(address)
        if self.ctx.faults.active("lb-unreachable") is not None:
            bank.release(address)  # assigned, yet nothing answers on it: connections are refused
            return
        had_any = bool(bank.held_ports(address))
        if not had_any and bank.hold_all(address, ports) is not None and not self._shares(address):
            status = st.copy_json(svc.get("status") or {})
            status["loadBalancer"] = {}
            u.write_status(self.ctx.store, u.SERVICES, svc, status)  # MODIFIED brings it back to assign
            return
        failed = [p for p in ports if bank.hold(address, p)]
        stale = [p for p in bank.held_ports(address) if p not in ports]
        if stale:
            bank.release(address, ports=stale)
        if failed:
            self.ctx.record_event(svc, "Warning", "SyncLoadBalancerFailed",
                                  f"SIMULATED load balancer: {bank.problems.get((address, failed[0]), '')}",
                                  "service-controller")
            ns, name = svc["metadata"].get("namespace"), svc["metadata"]["name"]
            self.ctx.schedule(RETRY_SECONDS, lambda: self._retry_keep(ns, name))

    def _shares(self, address: str) -> bool:
        return address == addresses.FALLBACK and addresses.SPACE.shared_only

    def _retry_keep(self, ns: str | None, name: str) -> None:
        svc = self.ctx.store.get(u.SERVICES, ns, name)
        if svc is not None and _ingress_ip(svc):
            self._keep(svc, _ingress_ip(svc))

    def _release(self, address: str) -> None:
        addresses.bank_for(self.ctx.store).release(address)
        addresses.SPACE.give_back(address)


RETRY_SECONDS = 5.0
MAX_CANDIDATES = 600
STATUS_PORT = 15021  # Istio's readiness port: nothing in the tutorial connects to it


def lb_ports(svc: dict) -> list[int]:
    """TCP ports of a Service the load balancer forwards (the simulated data plane serves them)."""
    return sorted({int(p.get("port") or 0) for p in (svc.get("spec") or {}).get("ports") or []
                   if p.get("protocol", "TCP") == "TCP" and int(p.get("port") or 0) not in (0, STATUS_PORT)})


def _ingress_ip(svc: dict) -> str | None:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return next((i["ip"] for i in ingress if i.get("ip")), None)


def _chain(first: list[str], rest):
    yield from first
    yield from rest


def _free_node_port(svc: dict, port: dict, used: set) -> int:
    seed = int(hashlib.sha256(f"{svc['metadata']['name']}/{port.get('port')}".encode()).hexdigest()[:8], 16)
    for i in range(2768):
        candidate = 30000 + (seed + i) % 2768
        if candidate not in used:
            return candidate
    raise RuntimeError("no free node port left in 30000-32767")


class EndpointsController(Controller):
    """Keeps Endpoints and EndpointSlices of selector Services in line with the pods."""

    name = "endpoints"
    reads_only = True  # on_event and reconcile only read; writes are built anew
    watches = frozenset({u.SERVICES, u.PODS})

    def resync(self) -> None:
        for svc in self.ctx.store.list(u.SERVICES)[0]:
            self.reconcile(svc)

    def on_event(self, type: str, gr, obj: dict) -> None:
        ns = obj["metadata"].get("namespace")
        if gr == u.SERVICES:
            if type == "DELETED":
                if (obj.get("spec") or {}).get("selector"):
                    u.safe(lambda: self.ctx.store.delete(u.ENDPOINTS, ns, obj["metadata"]["name"]))
                return
            self.reconcile(obj)
            return
        for svc in self.ctx.store.view(u.SERVICES, ns):
            self.reconcile(svc)

    def reconcile(self, svc: dict) -> None:
        selector = (svc.get("spec") or {}).get("selector")
        ns = svc["metadata"].get("namespace")
        if not selector or svc["metadata"].get("deletionTimestamp") or not namespace_active(self.ctx.store, ns):
            return
        pods = [p for p in self.ctx.store.view(u.PODS, ns)
                if u.map_matches(selector, u.labels_of(p)) and (p.get("status") or {}).get("podIP")
                and not p["metadata"].get("deletionTimestamp")]
        self._endpoints(svc, pods)
        self._slice(svc, pods)

    def _endpoints(self, svc: dict, pods: list[dict]) -> None:
        ready = [_address(p) for p in pods if is_ready(p)]
        not_ready = [_address(p) for p in pods if not is_ready(p)]
        subset: dict = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        name, ns = svc["metadata"]["name"], svc["metadata"].get("namespace")
        want = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns, "labels": dict(u.labels_of(svc))}}
        if subset:
            subset["ports"] = [_port(svc, p, pods) for p in (svc.get("spec") or {}).get("ports") or []]
            want["subsets"] = [subset]
        current = self.ctx.store.peek(u.ENDPOINTS, ns, name)  # read only: the update is a new dict
        if current is None:
            u.safe(lambda: self.ctx.store.create(u.ENDPOINTS, want))
        elif current.get("subsets") != want.get("subsets") or u.labels_of(current) != u.labels_of(want):
            new = {k: v for k, v in current.items() if k != "subsets"}
            new["metadata"] = {**current["metadata"], "labels": want["metadata"]["labels"]}
            if "subsets" in want:
                new["subsets"] = want["subsets"]
            u.safe(lambda: self.ctx.store.update(u.ENDPOINTS, new))

    def _slice(self, svc: dict, pods: list[dict]) -> None:
        name, ns = svc["metadata"]["name"], svc["metadata"].get("namespace")
        existing = self.ctx.store.view(u.ENDPOINTSLICES, ns, label_selector=f"{SERVICE_NAME_LABEL}={name}")
        endpoints = [{"addresses": [p["status"]["podIP"]],
                      "conditions": {"ready": is_ready(p), "serving": is_ready(p), "terminating": False},
                      "nodeName": (p.get("spec") or {}).get("nodeName", ""),
                      "targetRef": _target(p)} for p in pods]
        ports = [{"name": p.get("name", ""), "port": _port(svc, p, pods)["port"],
                  "protocol": p.get("protocol", "TCP")} for p in (svc.get("spec") or {}).get("ports") or []]
        labels = {**u.labels_of(svc), SERVICE_NAME_LABEL: name, **MANAGED_BY}
        if not existing:
            want = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": {"name": f"{name}-{u.random_suffix()}", "namespace": ns,
                                 "generateName": f"{name}-", "labels": labels,
                                 "ownerReferences": [u.owner_ref({**svc, "apiVersion": "v1", "kind": "Service"})]},
                    "addressType": "IPv4", "endpoints": endpoints, "ports": ports}
            u.safe(lambda: self.ctx.store.create(u.ENDPOINTSLICES, want))
            return
        current = existing[0]
        if current.get("endpoints") != endpoints or current.get("ports") != ports or u.labels_of(current) != labels:
            new = {**current, "endpoints": endpoints, "ports": ports, "metadata": {**current["metadata"],
                                                                                  "labels": labels}}
            u.safe(lambda: self.ctx.store.update(u.ENDPOINTSLICES, new))


def _target(pod: dict) -> dict:
    return {"kind": "Pod", "namespace": pod["metadata"].get("namespace"), "name": pod["metadata"]["name"],
            "uid": pod["metadata"]["uid"]}


def _address(pod: dict) -> dict:
    return {"ip": pod["status"]["podIP"], "nodeName": (pod.get("spec") or {}).get("nodeName", ""),
            "targetRef": _target(pod)}


def _port(svc: dict, port: dict, pods: list[dict]) -> dict:
    """The endpoint port for a service port: targetPort, resolving a named container port."""
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, str) and not target.isdigit():
        found = [cp.get("containerPort") for p in pods for c in (p.get("spec") or {}).get("containers") or []
                 for cp in c.get("ports") or [] if cp.get("name") == target]
        target = found[0] if found else port.get("port")
    out = {"port": int(target), "protocol": port.get("protocol", "TCP")}
    if port.get("name"):
        out = {"name": port["name"], **out}
    return out
