"""Cluster basics: the initial objects and Node, namespaces (defaults, termination), garbage collection.

Workloads live in workloads.py and pods.py, Services in network.py; this module re-exports
every core controller so `controllers.core` is the one place that lists them.
"""

from __future__ import annotations

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.controllers.cascade import CascadeController
from tutorial.sandbox.controllers.cronjobs import CronJobController
from tutorial.sandbox.controllers.faultswitch import FaultSwitchController
from tutorial.sandbox.controllers.jobs import JobController
from tutorial.sandbox.controllers.network import EndpointsController, ServiceController
from tutorial.sandbox.controllers.podstatus import NODE_IP
from tutorial.sandbox.controllers.pods import PodLifecycleController
from tutorial.sandbox.controllers.sets import DaemonSetController, StatefulSetController
from tutorial.sandbox.controllers.workloads import DeploymentController, ReplicaSetController
from tutorial.sandbox.controllers.runtime import Controller

SIMULATED_LABEL = "gateway-tutorial.dev/sandbox"
BASE_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                  "endpoints such as the internal service IP or kubernetes.default.svc. No other usage "
                  "is guaranteed across distributions of Kubernetes clusters.")
SANDBOX_CA = "-----BEGIN CERTIFICATE-----\nU0lNVUxBVEVEIFNBTkRCT1ggQ0E=\n-----END CERTIFICATE-----\n"


def namespace_object(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def node_object(name: str) -> dict:
    """The one simulated node, labelled as such, Ready, with room for every lesson's pods."""
    resources = {"cpu": "8", "ephemeral-storage": "102400000Ki", "memory": "16365712Ki", "pods": "110"}
    pressure = [("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available")]
    now = st.now_iso()
    conditions = [{"type": t, "status": "False", "reason": r, "message": m, "lastHeartbeatTime": now,
                   "lastTransitionTime": now} for t, r, m in pressure]
    conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                       "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                       "lastTransitionTime": now})
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
              "node-role.kubernetes.io/control-plane": "", SIMULATED_LABEL: "true"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {"capacity": resources, "allocatable": dict(resources), "conditions": conditions,
                       "addresses": [{"type": "InternalIP", "address": NODE_IP},
                                     {"type": "Hostname", "address": name}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                       "nodeInfo": {"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.24",
                                    "kernelVersion": "6.8.0 (simulated)", "kubeProxyVersion": "v1.32.2",
                                    "kubeletVersion": "v1.32.2", "operatingSystem": "linux",
                                    "osImage": "gateway-tutorial sandbox (simulated)",
                                    "machineID": "", "systemUUID": "", "bootID": ""}}}


class BootstrapController(Controller):
    """Creates what a fresh cluster has: base namespaces, the Node, the `kubernetes` Service."""

    name = "bootstrap"
    watches = frozenset()

    def resync(self) -> None:
        store = self.ctx.store
        for name in BASE_NAMESPACES:
            if store.get(u.NAMESPACES, None, name) is None:
                u.safe(lambda n=name: store.create(u.NAMESPACES, namespace_object(n)))
        node = self.ctx.settings.node_name
        if store.get(u.NODES, None, node) is None:
            u.safe(lambda: store.create(u.NODES, node_object(node)))
        if store.get(u.SERVICES, "default", "kubernetes") is None:
            u.safe(lambda: store.create(u.SERVICES, _kubernetes_service()))
        if store.get(u.ENDPOINTS, "default", "kubernetes") is None:
            u.safe(lambda: store.create(u.ENDPOINTS, _kubernetes_endpoints()))


def _kubernetes_service() -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                     "internalTrafficPolicy": "Cluster",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]},
            "status": {"loadBalancer": {}}}


def _kubernetes_endpoints() -> dict:
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": NODE_IP}],
                         "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}


class NamespaceController(Controller):
    """Default ServiceAccount and CA ConfigMap per namespace; empties and removes Terminating ones."""

    name = "namespace"
    watches = frozenset({u.NAMESPACES})
    reads_only = True

    def resync(self) -> None:
        for ns in self.ctx.store.list(u.NAMESPACES)[0]:
            self.reconcile(ns)

    def on_event(self, type: str, gr, obj: dict) -> None:
        if type != "DELETED":
            self.reconcile(obj)

    def reconcile(self, ns: dict) -> None:
        if ns["metadata"].get("deletionTimestamp"):
            self._terminate(ns["metadata"]["name"])
        else:
            self._defaults(ns["metadata"]["name"])

    def _defaults(self, name: str) -> None:
        store = self.ctx.store
        if store.peek(u.SERVICEACCOUNTS, name, "default") is None:
            sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}
            u.safe(lambda: store.create(u.SERVICEACCOUNTS, sa))
        if store.peek(u.CONFIGMAPS, name, "kube-root-ca.crt") is None:
            cm = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "kube-root-ca.crt", "namespace": name,
                               "annotations": {"kubernetes.io/description": CA_DESCRIPTION}},
                  "data": {"ca.crt": SANDBOX_CA}}
            u.safe(lambda: store.create(u.CONFIGMAPS, cm))

    def _terminate(self, name: str) -> None:
        """Delete everything in the namespace, then finalize it (which removes it)."""
        store = self.ctx.store
        kinds = [gr for gr in store.kinds() if gr != u.NAMESPACES]
        for gr in kinds:
            for obj_name, deleting in store.names(gr, name):
                if not deleting:
                    u.safe(lambda g=gr, n=obj_name: store.delete(g, name, n))
        left = sum(len(store.names(gr, name)) for gr in store.kinds() if gr != u.NAMESPACES)
        if left:
            # Objects with finalizers go when their controllers release them; look again soon.
            self.ctx.schedule(self.ctx.delay(1.0), lambda: self._retry(name))
            return
        ns = store.get(u.NAMESPACES, None, name)
        if ns is not None:
            ns["spec"] = {**(ns.get("spec") or {}), "finalizers": []}
            ns["metadata"].pop("resourceVersion", None)
            u.safe(lambda: store.update(u.NAMESPACES, ns))

    def _retry(self, name: str) -> None:
        ns = self.ctx.store.get(u.NAMESPACES, None, name)
        if ns is not None and ns["metadata"].get("deletionTimestamp"):
            self._terminate(name)


class GarbageCollector(Controller):
    """Deletes objects whose owners are all gone (background propagation)."""

    name = "garbage-collector"
    watches = None  # every resource: any object may own others
    reads_only = True

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._dependents: dict[str, set[tuple]] = {}  # owner uid -> {(gr, namespace, name)}

    def resync(self) -> None:
        self._dependents.clear()
        for gr in self.ctx.store.kinds():
            for obj in self.ctx.store.list(gr)[0]:
                self._index(gr, obj)
                if obj["metadata"].get("ownerReferences") and self._orphaned(obj):
                    self._delete(gr, obj)

    def on_event(self, type: str, gr, obj: dict) -> None:
        if type != "DELETED":
            self._index(gr, obj)
            return
        for dep_gr, ns, name in self._dependents.pop(obj["metadata"].get("uid", ""), set()):
            dep = self.ctx.store.peek(dep_gr, ns, name)
            # a dependent orphaned on purpose (propagationPolicy Orphan) has no owner left to follow
            if dep is not None and dep["metadata"].get("ownerReferences") and self._orphaned(dep):
                self._delete(dep_gr, dep)

    def _index(self, gr, obj: dict) -> None:
        key = (tuple(gr), obj["metadata"].get("namespace"), obj["metadata"]["name"])
        for ref in obj["metadata"].get("ownerReferences") or []:
            self._dependents.setdefault(ref.get("uid", ""), set()).add(key)

    def _orphaned(self, obj: dict) -> bool:
        """True when no owner exists any more (owners of unknown kinds count as existing)."""
        ns = obj["metadata"].get("namespace")
        for ref in obj["metadata"].get("ownerReferences") or []:
            owner_gr = self._gr_of(ref)
            if owner_gr is None:
                return False
            owner = self.ctx.store.peek(owner_gr, ns, ref.get("name", "")) or \
                self.ctx.store.peek(owner_gr, None, ref.get("name", ""))
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                return False
        return True

    def _gr_of(self, ref: dict):
        group, kind = u.api_group(ref.get("apiVersion", "")), ref.get("kind", "")
        if (group, kind) in u.KIND_TO_GR:
            return u.KIND_TO_GR[(group, kind)]
        registry = self.ctx.registry
        rtype = registry.by_kind(group, kind) if registry is not None else None
        return (rtype.group, rtype.plural) if rtype is not None else None

    def _delete(self, gr, obj: dict) -> None:
        if not obj["metadata"].get("deletionTimestamp"):
            u.safe(lambda: self.ctx.store.delete(gr, obj["metadata"].get("namespace"), obj["metadata"]["name"]))


CORE_CONTROLLERS: list[type[Controller]] = [
    FaultSwitchController, BootstrapController, NamespaceController, DeploymentController,
    ReplicaSetController, PodLifecycleController, ServiceController, EndpointsController, GarbageCollector,
    CascadeController, JobController, CronJobController, StatefulSetController, DaemonSetController,
]
