"""A tiny Kubernetes REST client for the simulated helm and istioctl (stdlib sockets, no kubernetes package).

It reads the kubeconfig the way the real tools do (--kubeconfig, then $KUBECONFIG, then
~/.kube/config; the context from a flag or current-context) so the simulated tools act on
whichever sandbox cluster kubectl would. Like the real tools' Go clients it keeps one connection
open for all its requests (a `helm install` sends some 40): a TLS handshake per request costs CPU
on both sides, and on a remote cluster a round trip or two more each.

Each run of a tool is a new process, so this module imports little: its HTTP is wire.py (not
http.client, which imports the email package), and a kubeconfig written as JSON (a fleet's
per-cluster copy, instructor/toolconfig.py) is read without loading the YAML parser.
"""

from __future__ import annotations

import json
import os

from tutorial.sandbox.simtools.wire import Connection, ProtocolError, RemoteDisconnected

# kind -> (apiVersion, plural, namespaced) for everything the simulated charts create.
KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("v1", "namespaces", False), "ServiceAccount": ("v1", "serviceaccounts", True),
    "Service": ("v1", "services", True), "ConfigMap": ("v1", "configmaps", True),
    "Secret": ("v1", "secrets", True), "Pod": ("v1", "pods", True), "Endpoints": ("v1", "endpoints", True),
    "Deployment": ("apps/v1", "deployments", True),
    "CustomResourceDefinition": ("apiextensions.k8s.io/v1", "customresourcedefinitions", False),
    "MutatingWebhookConfiguration": ("admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", False),
    "ValidatingWebhookConfiguration": ("admissionregistration.k8s.io/v1", "validatingwebhookconfigurations", False),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets", True),
    "HorizontalPodAutoscaler": ("autoscaling/v2", "horizontalpodautoscalers", True),
    "GatewayClass": ("gateway.networking.k8s.io/v1", "gatewayclasses", False),
    "Gateway": ("gateway.networking.k8s.io/v1", "gateways", True),
    "HTTPRoute": ("gateway.networking.k8s.io/v1", "httproutes", True),
}


class KubeError(Exception):
    """An API or connection error, with the HTTP code (0 when the server was unreachable)."""

    def __init__(self, code: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason


class ConfigError(Exception):
    """The kubeconfig is missing or names no usable cluster."""


def _kubeconfig_paths(explicit: str | None) -> list[str]:
    if explicit:
        return [os.path.expanduser(explicit)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return [os.path.join(os.path.expanduser("~"), ".kube", "config")]


def _read_kubeconfig(text: str):
    """A kubeconfig file's document. JSON (a subset of YAML, and what a fleet writes) is read by
    the json module; anything else through the bounded YAML loader."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            pass  # YAML flow style that is not JSON: the YAML loader reads it
    from tutorial.lessons.safeyaml import fast_load_all

    # libyaml when safe (fast_load_all): an instructor's kubeconfig of 100 clusters takes
    # ~80 ms in pure Python, paid by every simulated helm or istioctl run
    docs = fast_load_all(text)
    return docs[0] if docs else None


def load_config(kubeconfig: str | None = None, context: str | None = None) -> dict:
    """{server, token, namespace, context} from the merged kubeconfig files."""
    merged: dict[str, dict[str, dict]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = None
    for path in _kubeconfig_paths(kubeconfig):
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as fh:
            data = _read_kubeconfig(fh.read())
        data = data if isinstance(data, dict) else {}
        current = current or data.get("current-context")
        for section in merged:
            for entry in data.get(section) or []:
                merged[section].setdefault(entry.get("name"), entry)
    name = context or current
    ctx = (merged["contexts"].get(name) or {}).get("context")
    if not ctx:
        raise ConfigError(f'context "{name}" does not exist' if name else
                          "Kubernetes cluster unreachable: no kubeconfig found (set KUBECONFIG or use --kubeconfig)")
    cluster = (merged["clusters"].get(ctx.get("cluster")) or {}).get("cluster") or {}
    user = (merged["users"].get(ctx.get("user")) or {}).get("user") or {}
    if not cluster.get("server"):
        raise ConfigError(f'context "{name}" names no cluster server')
    return {"server": cluster["server"].rstrip("/"), "token": user.get("token"),
            "namespace": ctx.get("namespace") or "default", "context": name,
            "ca_data": cluster.get("certificate-authority-data"),
            "insecure": bool(cluster.get("insecure-skip-tls-verify"))}


def tls_context(config: dict):
    """How to trust the server, as kubectl would: its certificate-authority-data, or not at all."""
    import base64
    import ssl

    if not config["server"].startswith("https:"):
        return None
    if config.get("ca_data"):
        return ssl.create_default_context(cadata=base64.b64decode(config["ca_data"]).decode())
    if config.get("insecure"):
        return ssl._create_unverified_context()
    return ssl.create_default_context()


def resource_path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    api_version, plural, namespaced = KINDS[kind]
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    return f"{base}/{name}" if name else base


class Kube:
    """Just enough REST: get, list, create, replace, delete, status patch."""

    def __init__(self, config: dict) -> None:
        self.server, self.token = config["server"], config.get("token")
        self.namespace = config.get("namespace") or "default"
        self.tls = tls_context(config)
        self._host, self._port, self._prefix = _split_server(self.server)
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(self._host, self._port, timeout=30, context=self.tls)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: object = None, ctype: str = "application/json") -> object:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = ctype
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        status, reason, raw = self._exchange(method, self._prefix + path, data, headers)
        if status >= 400:
            raise _api_error(status, reason, raw)
        return json.loads(raw) if raw else None

    def _exchange(self, method: str, path: str, data: bytes | None, headers: dict) -> tuple[int, str, bytes]:
        """One request on the kept connection. A kept connection the server has meanwhile closed
        is reopened once for a request that may safely be sent twice (as Go's transport does)."""
        for attempt in (0, 1):
            reused = self._conn is not None
            try:
                status, reason, raw, will_close = self._connection().request(method, path, data, headers)
            except (ProtocolError, OSError) as exc:
                self.close()
                if attempt == 0 and reused and method in ("GET", "PUT", "DELETE") and _closed_by_peer(exc):
                    continue
                raise KubeError(0, f"Kubernetes cluster unreachable: Get \"{self.server}/version\": "
                                   f"{exc}") from None
            if will_close:
                self.close()
            return status, reason, raw
        raise AssertionError("unreachable")

    def get(self, kind: str, namespace: str | None, name: str) -> dict | None:
        try:
            return self.request("GET", resource_path(kind, namespace, name))
        except KubeError as exc:
            if exc.code == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        path = resource_path(kind, namespace)
        if selector:
            path += f"?labelSelector={_quote(selector)}"
        return (self.request("GET", path) or {}).get("items") or []

    def create(self, obj: dict) -> dict:
        m = obj["metadata"]
        return self.request("POST", resource_path(obj["kind"], m.get("namespace")), obj)

    def replace(self, obj: dict) -> dict:
        m = obj["metadata"]
        return self.request("PUT", resource_path(obj["kind"], m.get("namespace"), m["name"]), obj)

    def apply(self, obj: dict) -> str:
        """Create, or replace keeping server-owned fields; returns "created" or "configured"."""
        m = obj["metadata"]
        current = self.get(obj["kind"], m.get("namespace"), m["name"])
        if current is None:
            self.create(obj)
            return "created"
        merged = dict(obj)
        merged["metadata"] = {**current["metadata"], **obj["metadata"]}
        if obj["kind"] == "Service":
            merged["spec"] = {**(current.get("spec") or {}), **obj["spec"]}
        self.replace(merged)
        return "configured"

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        try:
            self.request("DELETE", resource_path(kind, namespace, name), {"propagationPolicy": "Background"})
            return True
        except KubeError as exc:
            if exc.code == 404:
                return False
            raise

    def version(self) -> dict:
        return self.request("GET", "/version") or {}


def _closed_by_peer(exc: BaseException) -> bool:
    return isinstance(exc, (RemoteDisconnected, ConnectionResetError, BrokenPipeError))


_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def _quote(text: str) -> str:
    """urllib.parse.quote(text) (safe "/"), without importing urllib."""
    return "".join(ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode()) for ch in text)


def _split_server(server: str) -> tuple[str, int | None, str]:
    """(host, port or None, path prefix) of a server URL like https://127.0.0.1:6443/prefix."""
    rest = server.split("://", 1)[-1]
    netloc, slash, path = rest.partition("/")
    netloc = netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):  # [::1]:6443
        host, _, port = netloc[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = netloc.partition(":")
    return host.lower(), int(port) if port.isdigit() else None, (slash + path).rstrip("/")


def _api_error(status: int, reason: str, raw: bytes) -> KubeError:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return KubeError(status, body.get("message") or f"HTTP Error {status}: {reason}", body.get("reason", ""))


def connect(kubeconfig: str | None, context: str | None) -> Kube:
    return Kube(load_config(kubeconfig, context))
