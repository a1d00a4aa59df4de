"""Plain REST on one cluster for the journal and reset: metadata-only lists, JSON writes, deletes.

Goes through the engine's ClusterClient (its kubernetes ApiClient: kubeconfig auth, TLS) so a
fleet command opens one connection pool per cluster. Lists ask for PartialObjectMetadataList:
a snapshot needs names, uids, labels and owners, never the (large) CRD schemas.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

META_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
JSON = "application/json"
HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"


@dataclass(frozen=True)
class ObjRef:
    """One object's identity: apiVersion, kind, namespace (None if cluster-scoped), name."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace or ''}/{self.name}"

    def to_dict(self) -> dict:
        out = {"api_version": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            out["namespace"] = self.namespace
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "ObjRef":
        return cls(d["api_version"], d["kind"], d.get("namespace") or None, d["name"])

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class Seen:
    """An object as a snapshot saw it."""

    ref: ObjRef
    uid: str = ""
    labels: dict = field(default_factory=dict)
    owners: tuple[str, ...] = ()
    release: str | None = None  # "namespace/name" of the Helm release that manages it
    deleting: bool = False
    annotations: dict = field(default_factory=dict)


class Kube:
    """REST calls on one cluster; errors become ClusterError with a person's message."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, body: dict | None = None, *, query=None,
                accept: str = JSON, timeout: float = 30.0, content_type: str = JSON) -> tuple[int, dict]:
        """(status, decoded body); raises ClusterError only when the server cannot be reached."""
        from tutorial.cluster.client import ClusterError

        api = self.client.api
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            method, url, headers, data, _ = api.param_serialize(
                method, path, query_params=query or [], header_params=headers, body=body,
                auth_settings=["BearerToken"])
            resp = api.call_api(method, url, header_params=headers, body=data, _request_timeout=timeout).response
        except Exception as exc:  # urllib3 connection errors, TLS, DNS
            raise ClusterError(f"cannot reach the API server at {api.configuration.host}: {_short(exc)}") from exc
        raw = resp.data or b"{}"
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, {"message": raw[:300].decode("utf-8", "replace")}

    @staticmethod
    def raise_for(status: int, doc: dict, doing: str) -> None:
        from tutorial.cluster.client import ClusterError

        if status >= 400:
            raise ClusterError(f"could not {doing}: {doc.get('message') or status}", status=status,
                               reason=doc.get("reason", ""))

    def ref_path(self, ref: ObjRef, *, with_name: bool = True) -> str | None:
        """REST path of ref, or None when the cluster does not serve its kind (any more)."""
        from tutorial.cluster.client import ClusterError

        try:
            rr = self.client.resource(ref.api_version, ref.kind)
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise
        return rr.path(ref.namespace if rr.namespaced else None, ref.name if with_name else None)

    def namespaced(self, ref: ObjRef) -> bool:
        """Whether ref's kind lives in namespaces (False when the kind is not served)."""
        from tutorial.cluster.client import ClusterError

        try:
            return self.client.resource(ref.api_version, ref.kind).namespaced
        except ClusterError:
            return False

    def key(self, ref: ObjRef) -> str:
        """ref.key with the namespace dropped for cluster-scoped kinds (manifests may carry one)."""
        return ref.key if self.namespaced(ref) else ObjRef(ref.api_version, ref.kind, None, ref.name).key

    def list_meta(self, api_version: str, kind: str, namespace: str | None, *,
                  label_selector: str | None = None) -> list[Seen]:
        """Metadata of every object of a kind (in a namespace); [] when the kind is not served."""
        path = self.ref_path(ObjRef(api_version, kind, namespace, ""), with_name=False)
        if path is None:
            return []
        query = [("labelSelector", label_selector)] if label_selector else []
        status, doc = self.request("GET", path, query=query, accept=META_LIST)
        if status == 404:
            return []
        self.raise_for(status, doc, f"list {kind}")
        return [_seen(api_version, kind, item.get("metadata") or {}) for item in doc.get("items", [])]

    def get_meta(self, ref: ObjRef) -> dict | None:
        """The object's metadata, or None when it (or its kind) is gone."""
        path = self.ref_path(ref)
        if path is None:
            return None
        status, doc = self.request("GET", path)
        if status == 404:
            return None
        self.raise_for(status, doc, f"read {ref}")
        return doc.get("metadata") or {}

    def delete(self, ref: ObjRef, uid: str | None = None) -> str:
        """Delete ref (only if its uid is still `uid`): 'deleted', 'gone' or 'replaced'."""
        path = self.ref_path(ref)
        if path is None:
            return "gone"
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}
        status, doc = self.request("DELETE", path, body)
        if status == 404:
            return "gone"
        if status == 409 and uid:
            return "replaced"
        self.raise_for(status, doc, f"delete {ref}")
        return "deleted"


def sibling(client):
    """A new ClusterClient on the same cluster with its own connection pool (ClusterClient.sibling)."""
    return client.sibling()


def client_from_dict(config: dict, base_path: str, kubeconfig: str | None, context: str):
    """A ClusterClient for `context` built from an already parsed kubeconfig dict."""
    from tutorial.cluster.client import ClusterClient, ClusterError, load_configuration

    try:
        configuration = load_configuration(kubeconfig, context, config_dict=config, base_path=base_path)
    except Exception as exc:  # ConfigException: missing user, bad certificate data
        raise ClusterError(f"cannot load kubeconfig context {context}: {exc}") from exc
    return ClusterClient.from_configuration(configuration, kubeconfig, context)


def _seen(api_version: str, kind: str, meta: dict) -> Seen:
    ann = meta.get("annotations") or {}
    release = None
    if ann.get(HELM_RELEASE_ANNOTATION):
        release = f"{ann.get(HELM_NAMESPACE_ANNOTATION) or meta.get('namespace') or ''}/{ann[HELM_RELEASE_ANNOTATION]}"
    return Seen(ObjRef(api_version, kind, meta.get("namespace") or None, meta.get("name", "")),
                meta.get("uid", ""), dict(meta.get("labels") or {}),
                tuple(o.get("uid", "") for o in meta.get("ownerReferences") or []), release,
                bool(meta.get("deletionTimestamp")), dict(ann))


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200] if text else type(exc).__name__
