"""Registry of the resource types the sandbox serves: built-in kinds plus CRD-defined kinds.

Discovery, REST routing, tables and admission all look kinds up here. CRD objects in the store
drive the CRD part (see attach_crd_sync): a created CRD is served at once and marked Established.
"""

from __future__ import annotations

import dataclasses
import threading

from tutorial.sandbox.storage.objects import GR, now_iso
from tutorial.sandbox.storage.store import Store

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CREATE_ONLY = ["create"]
CRDS: GR = ("apiextensions.k8s.io", "customresourcedefinitions")


@dataclasses.dataclass
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: list[str] = dataclasses.field(default_factory=list)
    verbs: list[str] = dataclasses.field(default_factory=lambda: list(VERBS))
    categories: list[str] = dataclasses.field(default_factory=list)
    subresources: list[str] = dataclasses.field(default_factory=list)
    printer_columns: list[dict] = dataclasses.field(default_factory=list)
    served_versions: list[str] = dataclasses.field(default_factory=list)
    store_gr: GR | None = None   # where objects live when shared with another group (events)
    crd: bool = False

    def __post_init__(self) -> None:
        if not self.served_versions:
            self.served_versions = [self.version]

    @property
    def gr(self) -> GR:
        return (self.group, self.plural)

    @property
    def storage_gr(self) -> GR:
        return self.store_gr or self.gr

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def api_version_for(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def label(self) -> str:
        """Name used in messages, like the real API server: pods, deployments.apps."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _rt(group, version, plural, kind, namespaced, short=(), cats=(), sub=(), verbs=None, **kw):
    return ResourceType(group, version, plural, kind.lower(), kind, namespaced, list(short),
                        list(verbs or VERBS), list(cats), list(sub), **kw)


def _builtin_types() -> list[ResourceType]:
    all_ = ("all",)
    return [
        _rt("", "v1", "namespaces", "Namespace", False, ["ns"], sub=["status", "finalize"]),
        _rt("", "v1", "pods", "Pod", True, ["po"], all_,
            ["status", "log", "exec", "attach", "portforward", "eviction", "proxy"]),
        _rt("", "v1", "services", "Service", True, ["svc"], all_, ["status", "proxy"]),
        _rt("", "v1", "endpoints", "Endpoints", True, ["ep"]),
        _rt("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"], sub=["token"]),
        _rt("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
        _rt("", "v1", "secrets", "Secret", True),
        _rt("", "v1", "events", "Event", True, ["ev"]),
        _rt("", "v1", "nodes", "Node", False, ["no"], sub=["status", "proxy"]),
        _rt("", "v1", "resourcequotas", "ResourceQuota", True, ["quota"], sub=["status"]),
        _rt("", "v1", "limitranges", "LimitRange", True, ["limits"]),
        _rt("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], sub=["status"]),
        _rt("", "v1", "replicationcontrollers", "ReplicationController", True, ["rc"], all_, ["status", "scale"]),
        _rt("apps", "v1", "deployments", "Deployment", True, ["deploy"], all_, ["status", "scale"]),
        _rt("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], all_, ["status", "scale"]),
        _rt("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], all_, ["status"]),
        _rt("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], all_, ["status", "scale"]),
        _rt("apps", "v1", "controllerrevisions", "ControllerRevision", True),
        _rt("batch", "v1", "jobs", "Job", True, [], all_, ["status"]),
        _rt("batch", "v1", "cronjobs", "CronJob", True, ["cj"], all_, ["status"]),
        _rt("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"],
            all_, ["status"]),
        _rt("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], sub=["status"]),
        _rt("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, ["pc"]),
        _rt("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
        _rt("events.k8s.io", "v1", "events", "Event", True, ["ev"], store_gr=("", "events")),
        _rt("coordination.k8s.io", "v1", "leases", "Lease", True),
        _rt("networking.k8s.io", "v1", "ingresses", "Ingress", True, ["ing"], sub=["status"]),
        _rt("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
        _rt("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ["netpol"]),
        _rt("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
            ["crd", "crds"], sub=["status"]),
        _rt("apiregistration.k8s.io", "v1", "apiservices", "APIService", False, cats=("api-extensions",),
            sub=["status"]),
        _rt("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
            "MutatingWebhookConfiguration", False),
        _rt("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
            "ValidatingWebhookConfiguration", False),
        _rt("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", False,
            cats=["api-extensions"], sub=["status"]),
        _rt("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings",
            "ValidatingAdmissionPolicyBinding", False, cats=["api-extensions"]),
        _rt("rbac.authorization.k8s.io", "v1", "roles", "Role", True),
        _rt("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True),
        _rt("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
        _rt("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
        _rt("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False,
            verbs=CREATE_ONLY),
        _rt("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False,
            verbs=CREATE_ONLY),
        _rt("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False,
            verbs=CREATE_ONLY),
        _rt("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", False,
            verbs=CREATE_ONLY),
    ]


def crd_resource_type(crd: dict) -> ResourceType:
    """The ResourceType a CustomResourceDefinition object defines."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not versions:
        raise ValueError("the CRD serves no version")
    storage = next((v for v in versions if v.get("storage")), versions[0])
    subs = (storage.get("subresources") or {})
    return ResourceType(
        group=spec.get("group", ""), version=versions[0]["name"], plural=names.get("plural", ""),
        singular=names.get("singular") or names.get("kind", "").lower(), kind=names.get("kind", ""),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=list(names.get("shortNames") or []), categories=list(names.get("categories") or []),
        subresources=[s for s in ("status", "scale") if s in subs],
        printer_columns=list(storage.get("additionalPrinterColumns") or []),
        served_versions=[v["name"] for v in versions], crd=True)


class Registry:
    """Lookup of resource types by (group, plural), by kind and by group/version."""

    def __init__(self, types: list[ResourceType] | None = None):
        self._lock = threading.RLock()
        self._types: dict[GR, ResourceType] = {}
        self._crd_names: dict[str, GR] = {}
        for rt in types or []:
            self._types[rt.gr] = rt

    @classmethod
    def builtin(cls) -> "Registry":
        return cls(_builtin_types())

    def by_gr(self, gr: GR) -> ResourceType | None:
        with self._lock:
            return self._types.get(tuple(gr))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        with self._lock:
            return next((rt for rt in self._types.values() if rt.group == group and rt.kind == kind), None)

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        """The type served at /apis/group/version/plural, or None."""
        rt = self.by_gr((group, plural))
        return rt if rt and version in rt.served_versions else None

    def all(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types.values())

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions, preferred first (core group is "")."""
        out: dict[str, list[str]] = {}
        for rt in self.all():
            versions = out.setdefault(rt.group, [])
            for v in rt.served_versions:
                if v not in versions:
                    versions.append(v)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self.all() if rt.group == group and version in rt.served_versions]

    def add_crd(self, crd_obj: dict) -> ResourceType:
        rt = crd_resource_type(crd_obj)
        with self._lock:
            self._types[rt.gr] = rt
            self._crd_names[crd_obj["metadata"]["name"]] = rt.gr
        return rt

    def remove_crd(self, name: str) -> None:
        with self._lock:
            gr = self._crd_names.pop(name, None)
            if gr and self._types.get(gr) and self._types[gr].crd:
                del self._types[gr]


def established_status(crd: dict) -> dict:
    """The status a served CRD carries: NamesAccepted and Established, accepted names."""
    spec = crd.get("spec") or {}
    ts = now_iso()
    conds = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": ts},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted", "lastTransitionTime": ts},
    ]
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", names.get("kind", "") + "List")
    stored = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    return {"conditions": conds, "acceptedNames": names, "storedVersions": stored}


def _is_established(crd: dict) -> bool:
    conds = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conds)


def attach_crd_sync(store: Store, registry: Registry) -> callable:
    """Keep the registry in step with CRD objects in the store; returns the unsubscribe function."""

    def on_event(type_: str, gr: GR, obj: dict) -> None:
        if tuple(gr) != CRDS:
            return
        if type_ == "DELETED":
            registry.remove_crd(obj["metadata"]["name"])
            _delete_custom_objects(store, obj)
            return
        try:
            registry.add_crd(obj)
        except (ValueError, KeyError, TypeError):
            return  # an unusable CRD is stored but not served, as a real server would reject it earlier
        if obj["metadata"].get("deletionTimestamp"):
            return
        status = _status_after_change(obj)
        if status is not None:
            obj = {**obj, "metadata": dict(obj["metadata"]), "status": status}  # obj is the store's: never edit it
            obj["metadata"].pop("resourceVersion", None)
            try:
                store.update(CRDS, obj, subresource="status")
            except Exception:  # noqa: BLE001 - deleted or changed meanwhile; its own event follows
                pass

    unsubscribe = store.subscribe(on_event)
    sync_crds(store, registry)
    return unsubscribe


def _status_after_change(crd: dict) -> dict | None:
    """The CRD's new status when it needs one: established at first, storage versions recorded after."""
    if not _is_established(crd):
        return established_status(crd)
    status = crd.get("status") or {}
    stored = list(status.get("storedVersions") or [])
    storage = [v["name"] for v in (crd.get("spec") or {}).get("versions") or [] if v.get("storage")]
    missing = [v for v in storage if v not in stored]
    if not missing:
        return None
    return dict(status, storedVersions=stored + missing)


def _delete_custom_objects(store: Store, crd: dict) -> None:
    """A deleted CRD takes its custom objects with it, as the real API server's cleanup does."""
    spec = crd.get("spec") or {}
    gr = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
    items, _ = store.list(gr)
    for item in items:
        try:
            store.delete(gr, item["metadata"].get("namespace"), item["metadata"]["name"])
        except Exception:  # noqa: BLE001 - already gone
            pass


def sync_crds(store: Store, registry: Registry) -> None:
    """Register every CRD found in the store (after a restore), establishing it when needed."""
    items, _ = store.list(CRDS)
    for crd in items:
        try:
            registry.add_crd(crd)
        except (ValueError, KeyError, TypeError):
            continue
        if not _is_established(crd):
            crd["status"] = established_status(crd)
            store.update(CRDS, crd, subresource="status")
