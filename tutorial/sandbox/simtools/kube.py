"""A tiny Kubernetes REST client for the simulated helm and istioctl (stdlib urllib, no kubernetes package).

It reads the kubeconfig the way the real tools do (--kubeconfig, then $KUBECONFIG, then
~/.kube/config; the context from a flag or current-context) so the simulated tools act on
whichever sandbox cluster kubectl would.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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


def _kubeconfig_paths(explicit: str | None) -> list[Path]:
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def load_config(kubeconfig: str | None = None, context: str | None = None) -> dict:
    """{server, token, namespace, context} from the merged kubeconfig files."""
    from tutorial.lessons.safeyaml import safe_load

    merged: dict[str, dict[str, dict]] = {"clusters": {}, "users": {}, "contexts": {}}
    current = None
    for path in _kubeconfig_paths(kubeconfig):
        if not path.is_file():
            continue
        data = safe_load(path.read_text(encoding="utf-8")) or {}
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

    def request(self, method: str, path: str, body: Any = None, ctype: str = "application/json") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", ctype)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.tls) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _api_error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            raise KubeError(0, f"Kubernetes cluster unreachable: Get \"{self.server}/version\": "
                               f"{getattr(exc, 'reason', exc)}") from None
        return json.loads(raw) if raw else None

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
            from urllib.parse import quote

            path += f"?labelSelector={quote(selector)}"
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


def _api_error(exc: "urllib.error.HTTPError") -> KubeError:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    return KubeError(exc.code, body.get("message") or str(exc), body.get("reason", ""))


def connect(kubeconfig: str | None, context: str | None) -> Kube:
    return Kube(load_config(kubeconfig, context))
