"""What the Istio 1.27 Helm charts (and istioctl profiles) create, rendered as plain objects.

Only the objects a learner can see and that matter to the walk-through: the Istio CRDs by name
(istio/base), istiod's ServiceAccount, ConfigMap, Deployment, Service and webhooks
(istio/istiod), and the gateway chart's Deployment/Service with the `image: auto` placeholder
(istio/gateway). Shapes and values follow FACTS.md section (d).
"""

from __future__ import annotations

VERSION = "1.27.1"
HUB = "docker.io/istio"
CHARTS = {"base": "Helm chart for deploying Istio cluster resources and CRDs",
          "istiod": "Helm chart for istio control plane",
          "gateway": "Helm chart for deploying Istio gateways"}
# Istio's own CRDs (crd-all.gen.yaml): plural.group -> (kind, versions, short names).
ISTIO_CRDS: dict[str, tuple[str, list[str], list[str]]] = {
    "authorizationpolicies.security.istio.io": ("AuthorizationPolicy", ["v1", "v1beta1"], ["ap"]),
    "destinationrules.networking.istio.io": ("DestinationRule", ["v1", "v1alpha3", "v1beta1"], ["dr"]),
    "envoyfilters.networking.istio.io": ("EnvoyFilter", ["v1alpha3"], []),
    "gateways.networking.istio.io": ("Gateway", ["v1", "v1alpha3", "v1beta1"], ["gw"]),
    "peerauthentications.security.istio.io": ("PeerAuthentication", ["v1", "v1beta1"], ["pa"]),
    "proxyconfigs.networking.istio.io": ("ProxyConfig", ["v1beta1"], []),
    "requestauthentications.security.istio.io": ("RequestAuthentication", ["v1", "v1beta1"], ["ra"]),
    "serviceentries.networking.istio.io": ("ServiceEntry", ["v1", "v1alpha3", "v1beta1"], ["se"]),
    "sidecars.networking.istio.io": ("Sidecar", ["v1", "v1alpha3", "v1beta1"], []),
    "telemetries.telemetry.istio.io": ("Telemetry", ["v1", "v1alpha1"], ["telemetry"]),
    "virtualservices.networking.istio.io": ("VirtualService", ["v1", "v1alpha3", "v1beta1"], ["vs"]),
    "wasmplugins.extensions.istio.io": ("WasmPlugin", ["v1alpha1"], []),
    "workloadentries.networking.istio.io": ("WorkloadEntry", ["v1", "v1alpha3", "v1beta1"], ["we"]),
    "workloadgroups.networking.istio.io": ("WorkloadGroup", ["v1", "v1alpha3", "v1beta1"], ["wg"]),
}


def _labels(chart: str, instance: str, version: str, **extra: str) -> dict:
    return {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": instance,
            "app.kubernetes.io/part-of": "istio", "app.kubernetes.io/version": version,
            "helm.sh/chart": f"{chart}-{version}", **extra}


def _get(values: dict, path: str, default: object) -> object:
    cur: object = values
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def _crd(name: str, labels: dict) -> dict:
    kind, versions, short = ISTIO_CRDS[name]
    plural, group = name.split(".", 1)
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
             "categories": ["istio-io", f"{group.split('.')[0]}-istio-io"]}
    if short:
        names["shortNames"] = short
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name, "labels": dict(labels),
                         "annotations": {"helm.sh/resource-policy": "keep"}},
            "spec": {"group": group, "names": names, "scope": "Namespaced",
                     "versions": [{"name": v, "served": True, "storage": i == 0, "schema": schema,
                                   "subresources": {"status": {}}} for i, v in enumerate(versions)]}}


def base(release: str, namespace: str, values: dict, version: str = VERSION) -> list[dict]:
    """istio/base: the Istio CRDs (not the Gateway API ones) and the default validator."""
    labels = _labels("base", release, version, app="istio-pilot")
    objs = [_crd(name, labels) for name in sorted(ISTIO_CRDS)]
    objs.append({"apiVersion": "v1", "kind": "ServiceAccount",
                 "metadata": {"name": "istio-reader-service-account", "namespace": namespace,
                              "labels": _labels("base", release, version, app="istio-reader")}})
    if _get(values, "defaultRevision", "default"):
        objs.append(_webhook("ValidatingWebhookConfiguration", "istiod-default-validator", namespace,
                             _labels("base", release, version, app="istiod")))
    return objs


def _webhook(kind: str, name: str, namespace: str, labels: dict) -> dict:
    path = "/validate" if kind.startswith("Validating") else "/inject"
    hook = {"name": f"{'validation' if path == '/validate' else 'sidecar-injector'}.istio.io",
            "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail",
            "clientConfig": {"service": {"name": "istiod", "namespace": namespace, "path": path, "port": 443}}}
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": name, "labels": labels}, "webhooks": [hook]}


def _istiod_container(values: dict, version: str) -> dict:
    requests = {"cpu": _get(values, "pilot.resources.requests.cpu", "500m"),
                "memory": _get(values, "pilot.resources.requests.memory", "2048Mi")}
    image = f"{_get(values, 'global.hub', HUB)}/pilot:{_get(values, 'global.tag', version)}"
    return {"name": "discovery", "image": image,
            "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info",
                     "--domain", "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
            "ports": [{"containerPort": 8080, "name": "http-debug", "protocol": "TCP"},
                      {"containerPort": 15010, "name": "grpc-xds", "protocol": "TCP"},
                      {"containerPort": 15012, "name": "tls-xds", "protocol": "TCP"},
                      {"containerPort": 15017, "name": "https-webhooks", "protocol": "TCP"},
                      {"containerPort": 15014, "name": "http-monitoring", "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1,
                               "periodSeconds": 3, "timeoutSeconds": 5},
            "resources": {"requests": requests}}


def _istiod_deployment(namespace: str, labels: dict, values: dict, version: str) -> dict:
    pod_labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": "default",
                  "sidecar.istio.io/inject": "false", "operator.istio.io/component": "Pilot"}
    template = {"metadata": {"labels": pod_labels,
                             "annotations": {"prometheus.io/port": "15014", "prometheus.io/scrape": "true"}},
                "spec": {"serviceAccountName": "istiod", "containers": [_istiod_container(values, version)]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "istiod", "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": int(_get(values, "pilot.replicaCount", 1)),
                     "selector": {"matchLabels": {"istio": "pilot"}}, "template": template}}


def istiod(release: str, namespace: str, values: dict, version: str = VERSION) -> list[dict]:
    """istio/istiod: istiod in istio-system with the chart's default 500m/2048Mi requests."""
    labels = _labels("istiod", release, version, app="istiod", istio="pilot", release=release)

    def meta(name: str) -> dict:
        return {"name": name, "namespace": namespace, "labels": dict(labels)}
    ports = [("grpc-xds", 15010, 15010), ("https-dns", 15012, 15012), ("https-webhook", 443, 15017),
             ("http-monitoring", 15014, 15014)]
    service = {"apiVersion": "v1", "kind": "Service", "metadata": meta("istiod"),
               "spec": {"type": "ClusterIP", "selector": {"app": "istiod", "istio": "pilot"},
                        "ports": [{"name": n, "port": p, "targetPort": t, "protocol": "TCP"} for n, p, t in ports]}}
    mesh = "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\nenablePrometheusMerge: true\n"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("istiod")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("istio"),
         "data": {"mesh": mesh, "meshNetworks": "networks: {}"}},
        _istiod_deployment(namespace, labels, values, version), service,
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta("istiod"),
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "istiod", "istio": "pilot"}}}},
        _webhook("MutatingWebhookConfiguration", "istio-sidecar-injector", namespace, dict(labels)),
        _webhook("ValidatingWebhookConfiguration", f"istio-validator-{namespace}", namespace, dict(labels)),
    ]


def gateway(release: str, namespace: str, values: dict, version: str = VERSION) -> list[dict]:
    """istio/gateway: Deployment + LoadBalancer Service named after the release, image `auto`."""
    short = release[len("istio-"):] if release.startswith("istio-") else release
    selector = {"app": release, "istio": short}
    labels = _labels("gateway", release, version, **selector, **{"app.kubernetes.io/name": release})
    pod_labels = {**selector, "sidecar.istio.io/inject": "true", "istio.io/dataplane-mode": "none"}
    container = {"name": "istio-proxy", "image": "auto",
                 "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "2000m", "memory": "1024Mi"}}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)},
                  "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                           "template": {"metadata": {"labels": pod_labels,
                                                     "annotations": {"inject.istio.io/templates": "gateway",
                                                                     "sidecar.istio.io/inject": "true"}},
                                        "spec": {"serviceAccountName": release, "containers": [container]}}}}
    ports = [("status-port", 15021), ("http2", 80), ("https", 443)]
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)},
               "spec": {"type": _get(values, "service.type", "LoadBalancer"), "selector": selector,
                        "ports": [{"name": n, "port": p, "targetPort": p, "protocol": "TCP"} for n, p in ports]}}
    return [{"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)}},
            deployment, service]


RENDERERS = {"base": base, "istiod": istiod, "gateway": gateway}

NOTES = {
    "base": "Istio base successfully installed!\n\nTo learn more about the release, try:\n"
            "  $ helm status {release} -n {namespace}\n  $ helm get all {release} -n {namespace}\n",
    "istiod": "\"{release}\" successfully installed!\n\nTo learn more about the release, try:\n"
              "  $ helm status {release} -n {namespace}\n  $ helm get all {release} -n {namespace}\n\n"
              "Next steps:\n  * Deploy a Gateway: https://istio.io/latest/docs/setup/additional-setup/gateway/\n",
    "gateway": "\"{release}\" successfully installed!\n\nTo learn more about the release, try:\n"
               "  $ helm status {release} -n {namespace}\n  $ helm get all {release} -n {namespace}\n\n"
               "Next steps:\n  * Deploy an HTTP application: https://istio.io/latest/docs/tasks/traffic-management/ingress/\n",
}
