"""What istiod's deployment controller applies for a managed Gateway: ServiceAccount, Deployment, Service.

Shapes follow Istio's kube-gateway template (FACTS.md section b, "Automated deployment"):
`<gateway>-<class>` names, the gateway-name and managed labels, an ownerReference to the Gateway
so deleting the Gateway garbage-collects them, and one Service port per distinct listener port.
"""

from __future__ import annotations

import re

from tutorial.sandbox.istio import binding
from tutorial.sandbox.istio.model import DOMAIN, GROUP, PROXY_IMAGE, key, meta
from tutorial.sandbox.istio.status import service_name

GATEWAY_NAME_LABEL = f"{GROUP}/gateway-name"
MANAGED_LABEL = "gateway.istio.io/managed"
MANAGED_VALUE = "istio.io-gateway-controller"
SERVICE_TYPE_ANNOTATION = "networking.istio.io/service-type"
_SKIP_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration", "gateway.istio.io/controller-version")


def _owner(gateway: dict) -> dict:
    m = meta(gateway)
    return {"apiVersion": f"{GROUP}/v1beta1", "kind": "Gateway", "name": m["name"], "uid": m.get("uid", "")}


def _metadata(gateway: dict, name: str) -> dict:
    """Name, namespace, copied Gateway labels/annotations plus Istio's labels, owner reference."""
    m = meta(gateway)
    labels = {k: v for k, v in (m.get("labels") or {}).items() if not k.startswith(f"{GROUP}/")}
    labels.update({GATEWAY_NAME_LABEL: m["name"], MANAGED_LABEL: MANAGED_VALUE})
    annotations = {k: v for k, v in (m.get("annotations") or {}).items()
                   if k not in _SKIP_ANNOTATIONS and not k.startswith(f"{GROUP}/")}
    infra_labels, infra_annotations = infrastructure(gateway)
    labels = {**infra_labels, **labels}
    annotations = {**annotations, **infra_annotations}
    out = {"name": name, "namespace": key(gateway)[0], "labels": labels, "ownerReferences": [_owner(gateway)]}
    if annotations:
        out["annotations"] = annotations
    return out


def infrastructure(gateway: dict) -> tuple[dict, dict]:
    """spec.infrastructure labels and annotations, which Istio puts on everything it generates."""
    infra = (gateway.get("spec") or {}).get("infrastructure") or {}
    return dict(infra.get("labels") or {}), dict(infra.get("annotations") or {})


def service_account(gateway: dict) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(gateway, service_name(gateway))}


def _port_name(listener_name: str) -> str:
    return re.sub(r"\.", "-", listener_name)[:63]


def service_ports(gateway: dict) -> list[dict]:
    ports = [{"name": "status-port", "port": 15021, "protocol": "TCP", "appProtocol": "tcp"}]
    seen = {15021}
    for lst in binding.listeners_of(gateway):
        if lst.port in seen or not lst.port:
            continue
        seen.add(lst.port)
        ports.append({"name": _port_name(lst.name), "port": lst.port, "protocol": "TCP",
                      "appProtocol": lst.protocol.lower()})
    return ports


def service(gateway: dict) -> dict:
    annotations = meta(gateway).get("annotations") or {}
    svc_type = annotations.get(SERVICE_TYPE_ANNOTATION) or "LoadBalancer"
    spec = {"type": svc_type, "ipFamilyPolicy": "PreferDualStack", "ports": service_ports(gateway),
            "selector": {GATEWAY_NAME_LABEL: meta(gateway)["name"]}}
    addresses = (gateway.get("spec") or {}).get("addresses") or []
    if len(addresses) == 1 and (addresses[0].get("type") or "IPAddress") == "IPAddress":
        spec["loadBalancerIP"] = addresses[0].get("value")
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(gateway, service_name(gateway)),
            "spec": spec}


def _container(gateway: dict) -> dict:
    probe = {"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
             "periodSeconds": 15, "timeoutSeconds": 1, "failureThreshold": 4}
    return {"name": "istio-proxy", "image": PROXY_IMAGE,
            "args": ["proxy", "router", "--domain", f"$(POD_NAMESPACE).svc.{DOMAIN}",
                     "--proxyLogLevel", "warning", "--proxyComponentLogLevel", "misc:error",
                     "--log_output_level", "default:info"],
            "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "ISTIO_META_CLUSTER_ID", "value": "Kubernetes"}],
            "ports": [{"containerPort": 15020, "name": "metrics", "protocol": "TCP"},
                      {"containerPort": 15021, "name": "status-port", "protocol": "TCP"},
                      {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            "readinessProbe": probe,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                          "limits": {"cpu": "2", "memory": "1Gi"}},
            "securityContext": {"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": True,
                                "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}}


def deployment(gateway: dict) -> dict:
    name, gw_name = service_name(gateway), meta(gateway)["name"]
    pod_labels = {GATEWAY_NAME_LABEL: gw_name, MANAGED_LABEL: MANAGED_VALUE,
                  "sidecar.istio.io/inject": "false", "service.istio.io/canonical-name": name,
                  "service.istio.io/canonical-revision": "latest"}
    infra_labels, infra_annotations = infrastructure(gateway)
    template = {"metadata": {"labels": {**infra_labels, **pod_labels},
                             "annotations": {**infra_annotations, "istio.io/rev": "default",
                                             "prometheus.io/path": "/stats/prometheus",
                                             "prometheus.io/port": "15020", "prometheus.io/scrape": "true"}},
                "spec": {"serviceAccountName": name, "containers": [_container(gateway)],
                         "securityContext": {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start",
                                                          "value": "0"}]}}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _metadata(gateway, name),
            "spec": {"selector": {"matchLabels": {GATEWAY_NAME_LABEL: gw_name}}, "template": template}}


def version_annotation() -> tuple[str, str]:
    return "gateway.istio.io/controller-version", "5"

