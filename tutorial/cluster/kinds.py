"""Which kinds a cluster serves, from its discovery documents: one request per API group version.

Shared by a ClusterClient and its siblings (the same cluster serves the same kinds). Checks of one
cluster run concurrently and often ask about the same group at the same moment (ten Gateway API
checks on a cluster without its CRDs): while one discovery request is in flight, the others wait
for its answer instead of sending their own. A group the cluster does not serve is not
remembered after that answer: its CRDs may come with the next step.
"""

from __future__ import annotations

import threading
from typing import Callable

# Built-in kinds every supported cluster serves (Kubernetes >= 1.26, what Gateway API v1.3 needs),
# GA and unchanged for years: their REST paths are known without a discovery round trip.
# (apiVersion, kind) -> (plural, namespaced). Custom resources (Gateway API, Istio) are never
# listed here: whether a cluster serves them is exactly what the lessons check.
BUILTIN_KINDS: dict[tuple[str, str], tuple[str, bool]] = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "Node"): ("nodes", False),
    ("v1", "Pod"): ("pods", True),
    ("v1", "Service"): ("services", True),
    ("v1", "Endpoints"): ("endpoints", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "Event"): ("events", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("apps/v1", "ReplicaSet"): ("replicasets", True),
    ("apps/v1", "DaemonSet"): ("daemonsets", True),
    ("apps/v1", "StatefulSet"): ("statefulsets", True),
    ("discovery.k8s.io/v1", "EndpointSlice"): ("endpointslices", True),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ("customresourcedefinitions", False),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"): ("mutatingwebhookconfigurations", False),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"): ("validatingwebhookconfigurations", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ("clusterroles", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ("clusterrolebindings", False),
    ("rbac.authorization.k8s.io/v1", "Role"): ("roles", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("rolebindings", True),
    ("policy/v1", "PodDisruptionBudget"): ("poddisruptionbudgets", True),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): ("horizontalpodautoscalers", True),
}


class _Flight:
    """One discovery request in flight: its waiters wake when it ends, with its error if any."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: Exception | None = None


class KindTable:
    """(apiVersion, kind) -> ResourceRef for one cluster, filled from discovery on demand."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, str], object] = {}
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        self.known.clear()

    def discover(self, api_version: str, fetch: Callable[[str], list[tuple[str, object]]]) -> None:
        """Add what fetch(api_version) -> [(kind, ref)] finds, or raise its error; concurrent
        callers for the same api_version share one fetch (and get a copy of its error)."""
        with self._lock:
            flight = self._flights.get(api_version)
            leader = flight is None
            if leader:
                flight = self._flights[api_version] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise _copy(flight.error)
            return
        try:
            for kind, ref in fetch(api_version):
                self.known[(api_version, kind)] = ref
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[api_version]
            flight.done.set()


def served_kinds(get_json, api_version: str) -> list[tuple[str, object]]:
    """[(kind, ResourceRef)] from the cluster's discovery document of api_version (subresources left
    out); ClusterError 404 'does not serve' when the group/version is not served."""
    from tutorial.cluster.client import ClusterError, ResourceRef

    path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    try:
        doc = get_json(path)
    except ClusterError as exc:
        if exc.status == 404:
            raise ClusterError(f"the server does not serve {api_version} (no such API group/version)",
                               status=404, reason="NotFound") from exc
        raise
    return [(res["kind"], ResourceRef(api_version, res["name"], res.get("namespaced", False), res["kind"]))
            for res in doc.get("resources", []) if "/" not in res["name"]]


def _copy(exc: Exception) -> Exception:
    """A fresh exception like exc for another thread to raise (one instance raised in several
    threads at once would share, and garble, its traceback)."""
    from tutorial.cluster.client import ClusterError

    if isinstance(exc, ClusterError):
        return ClusterError(str(exc), status=exc.status, reason=exc.reason, body=exc.body, reset=exc.reset,
                            retry_after=exc.retry_after)
    return type(exc)(*exc.args)
