"""The journal's snapshots: objects of interest on a cluster at one moment (metadata only).

Cluster-scoped kinds, namespaced kinds in the namespaces a step names, and every Helm release.
A fleet prepare walks its steps back to back, so the snapshot after one step is what the next
step starts from: `snapshot(..., reuse=after)` takes it as the next step's before-snapshot and
lists only the namespaces it did not look into (see reuse()).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tutorial.instructor.kubeapi import Kube, Seen

# Kinds whose new objects a step may leave behind; kinds a cluster does not serve are skipped.
CLUSTER_KINDS = [
    ("v1", "Namespace"),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
    ("gateway.networking.k8s.io/v1", "GatewayClass"),
]
NAMESPACED_KINDS = [
    ("apps/v1", "Deployment"), ("apps/v1", "DaemonSet"), ("apps/v1", "StatefulSet"),
    ("v1", "Service"), ("v1", "ServiceAccount"), ("v1", "ConfigMap"), ("v1", "Secret"),
    ("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("policy/v1", "PodDisruptionBudget"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("gateway.networking.k8s.io/v1", "Gateway"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ("gateway.networking.k8s.io/v1", "GRPCRoute"), ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
]
LIST_WORKERS = 8
# The journal itself lives here; a snapshot taken before it was written must not make it look new.
NOT_REUSED_IN = "kube-system"


@dataclass
class Snapshot:
    """Objects of interest at one moment, and the Helm releases (namespace/name -> status)."""

    objects: dict[str, Seen] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)  # namespaces whose contents were listed
    served: frozenset[str] | None = None  # group/versions served then (None: unknown, ask per kind)

    @property
    def namespaces(self) -> set[str]:
        return {s.ref.name for s in self.objects.values() if s.ref.kind == "Namespace"}


def snapshot(kube: Kube, namespaces: set[str], before: Snapshot | None = None, *,
             reuse: Snapshot | None = None) -> Snapshot:
    """Cluster-scoped kinds, namespaced kinds in `namespaces`, and every Helm release.

    Namespaces are listed first: a namespace that does not exist holds nothing, so its 15
    namespaced lists are not sent (before a step that creates istio-system, say). After a step
    (`before` given), a namespace the step created is not looked into either: what it holds goes
    with it (diff), so those lists would be read for nothing. Each list is a round trip to a
    possibly remote API server and CPU on both sides, on every step of every cluster.
    """
    if reuse is not None and NOT_REUSED_IN not in namespaces:
        return _extend(kube, reuse, namespaces)
    versions = _served(kube)
    served = _served_test(versions)
    with ThreadPoolExecutor(max_workers=LIST_WORKERS, thread_name_prefix="journal") as pool:
        first = pool.map(lambda job: kube.list_meta(*job),
                         [(av, kind, None) for av, kind in CLUSTER_KINDS if served(av)])
        secrets = pool.submit(kube.list_meta, "v1", "Secret", None, label_selector="owner=helm")
        results = list(first)
        existing = {s.ref.name for s in results[0]} if CLUSTER_KINDS[0][1] == "Namespace" else set(namespaces)
        if before is not None and CLUSTER_KINDS[0][1] == "Namespace":
            existing &= before.namespaces
        listed = namespaces & existing
        results += pool.map(lambda job: kube.list_meta(*job), _namespaced_jobs(listed, served))
        secrets = secrets.result()
    snap = Snapshot(listed=set(listed), served=versions)
    _add(snap, results)
    for seen in secrets:
        name, status = seen.labels.get("name"), seen.labels.get("status", "")
        if name:
            key = f"{seen.ref.namespace}/{name}"
            if status == "deployed" or key not in snap.releases:
                snap.releases[key] = status
    return snap


def _extend(kube: Kube, previous: Snapshot, namespaces: set[str]) -> Snapshot:
    """The previous step's after-snapshot as this step's before-snapshot: the cluster-scoped lists,
    the releases and every namespace it looked into are as it saw them a moment ago (nothing but
    the tutorial acts on the cluster between two steps of a prepare); the namespaces it did not
    look into (created by that step, or not named by it) and that exist are listed now."""
    served = _served_test(previous.served)
    missing = (namespaces & previous.namespaces) - previous.listed
    snap = Snapshot(dict(previous.objects), dict(previous.releases), previous.listed | missing, previous.served)
    if missing:
        with ThreadPoolExecutor(max_workers=LIST_WORKERS, thread_name_prefix="journal") as pool:
            _add(snap, list(pool.map(lambda job: kube.list_meta(*job), _namespaced_jobs(missing, served))))
    return snap


def _namespaced_jobs(namespaces: set[str], served) -> list[tuple]:
    return [(av, kind, ns) for ns in sorted(namespaces) for av, kind in NAMESPACED_KINDS if served(av)]


def _add(snap: Snapshot, results) -> None:
    for seen_list in results:
        for seen in seen_list:
            if seen.labels.get("owner") == "helm" and seen.ref.kind == "Secret":
                continue  # Helm's release records are accounted for as releases
            snap.objects[seen.ref.key] = seen


def _served(kube: Kube) -> frozenset[str] | None:
    """The group/versions served, from one request for the API groups: a group the cluster does not
    serve yet (Gateway API before its CRDs) would otherwise cost a discovery request per kind and
    namespace in every snapshot, since a 404 is not remembered (the CRDs may come with the next step).
    None when the cluster cannot tell (then each kind is asked for, as before)."""
    from tutorial.cluster.client import ClusterError

    try:
        groups = kube.client.get_json("/apis").get("groups", [])
    except ClusterError:
        return None
    return frozenset(v["groupVersion"] for g in groups for v in g.get("versions", []))


def _served_test(versions: frozenset[str] | None):
    if versions is None:
        return lambda api_version: True
    return lambda api_version: api_version == "v1" or api_version in versions
