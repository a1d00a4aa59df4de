"""Every failure-catalog scenario is explained by a rule that names the catalog's cause and fix.

Each scenario's symptom is recorded as evidence (the texts the catalog quotes); the explanation
must come from a rule that lists the scenario, and mention the catalog's key words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recorded import (FQDN, command_check, cond, gateway, gateway_check, http_check, listener, parent, pod,
                      route, route_check, workload_check)
from tutorial.engine.explain import explain_evidence
from tutorial.engine.explain_rules import load_rules

CATALOG = Path(__file__).resolve().parents[3] / "shared" / "reference" / "failure-catalog.yaml"
PENDING = cond("Accepted", "Unknown", "Pending", "Waiting for controller")
PENDING_P = cond("Programmed", "Unknown", "Pending", "Waiting for controller")
ACCEPTED = cond("Accepted", "True", "Accepted", "Resource accepted")
PENDING_SVC = {"name": "emojivoto-istio", "namespace": "istio-ingress", "type": "LoadBalancer", "external": [],
               "ports": [15021, 8080]}
RESOLVED = cond("ResolvedRefs", "True", "ResolvedRefs", "All references resolved")
ROUTE_OK = cond("Accepted", "True", "Accepted", "Route was valid")


def _not_allowed():
    return route_check(route(parents=[parent([cond(
        "Accepted", "False", "NotAllowedByListeners",
        'hostnames matched parent hostname "", but namespace "emojivoto" is not allowed by the parent'), RESOLVED])]),
        gw=gateway(listeners=[listener(allowed_from="Same", attached=0)]))


def _kubectl(output, argv=("kubectl", "apply", "-f", "gateway.yaml")):
    return command_check(list(argv), output)


# scenario id -> (evidence, words the explanation must contain: cause and fix)
SCENARIOS = {
    "E01-kustomize-wrong-dir": (_kubectl(
        "error: must build at directory: not a valid directory: evalsymlink failure on 'kustomize/' : "
        "lstat /home/learner/kustomize: no such file or directory", ("kubectl", "apply", "-k", "kustomize/")),
        ["kustomization", "emojivoto-example"]),
    "E03-image-pull": (workload_check([pod(state="ImagePullBackOff", message=(
        'Back-off pulling image "docker.l5d.io/buoyantio/emojivoto-web:v11": ErrImagePull: rpc error: code = '
        'Unknown desc = failed to pull and unpack image "docker.l5d.io/buoyantio/emojivoto-web:v11": failed to '
        'resolve reference: dial tcp: lookup docker.l5d.io: no such host'))]),
        ["registry", "docker.l5d.io", "v11", "restart"]),
    "E04-doughnut-500-is-intentional": (http_check(500, url="http://172.18.255.200:8080/api/vote?choice=:doughnut:"),
                                        ["doughnut", "on purpose", "another emoji"]),
    "I01-gateway-chart-image-auto": (workload_check([pod(
        "istio-ingress-5d9c8b7f4-abcde", "istio-ingress", "ImagePullBackOff", image="auto", container="istio-proxy",
        message='Back-off pulling image "auto": ErrImagePull: rpc error: code = Unknown desc = failed to pull and '
                'unpack image "docker.io/library/auto:latest": failed to resolve reference "docker.io/library/auto:'
                'latest": pull access denied, repository does not exist or may require authorization')],
        ns="istio-ingress"), ["injection", "istiod", "istio-injection=disabled", "delete"]),
    "I02-helm-wait-lb-pending": (command_check(
        ["helm", "install", "istio-ingress", "istio/gateway", "-n", "istio-ingress", "--create-namespace", "--wait"],
        "Error: INSTALLATION FAILED: context deadline exceeded"), ["LoadBalancer", "--wait", "service.type=ClusterIP"]),
    "I04-wrong-gateway-service": (http_check(None, "[Errno 111] Connection refused", url="http://172.18.255.201:8080/",
                                             service={"name": "istio-ingress", "namespace": "istio-ingress",
                                                      "type": "LoadBalancer", "external": ["172.18.255.201"]}),
                                  ["emojivoto-istio", "status.addresses", "istio/gateway"]),
    "I05-istio-ingress-namespace-missing": (_kubectl(
        'Error from server (NotFound): error when creating "gateway.yaml": namespaces "istio-ingress" not found'),
        ["minimal", "kubectl create namespace istio-ingress"]),
    "C01-crds-missing": (_kubectl(
        'error: resource mapping not found for name: "emojivoto" namespace: "istio-ingress" from "gateway.yaml": '
        'no matches for kind "Gateway" in version "gateway.networking.k8s.io/v1"\nensure CRDs are installed first'),
        ["CRD", "v1.3.0", "standard-install.yaml"]),
    "C03-stale-v1alpha2-storedversions": (command_check(["kubectl", "apply", "-f", "standard-install.yaml"], (
        "customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io configured\n"
        'The CustomResourceDefinition "grpcroutes.gateway.networking.k8s.io" is invalid: status.storedVersions[0]: '
        'Invalid value: "v1alpha2": must appear in spec.versions')),
        ["storedVersions", "v1alpha2", "grpcroutes.gateway.networking.k8s.io", "recreate the cluster"]),
    "C05-istio-too-old-for-v1.3": (gateway_check(gateway(), istio={"installed": True, "version": "1.21.2", "ready": True},
                                                 crds={"bundle_versions": {"gateways.gateway.networking.k8s.io": "v1.3.0"}}),
                                   ["GRPCRoute", "1.26", "1.27"]),
    "G01-gatewayclass-already-exists": (command_check(["kubectl", "apply", "-f", "gatewayclass.yaml"], (
        "Warning: resource gatewayclasses/istio is missing the kubectl.kubernetes.io/last-applied-configuration "
        "annotation which is required by kubectl apply. The missing annotation will be patched automatically.\n"
        "gatewayclass.gateway.networking.k8s.io/istio configured"), exit_code=0),
        ["harmless", "istiod", "Nothing to do", "kubectl get gatewayclass istio"]),
    "G03-gatewayclass-name-mismatch": (gateway_check(
        gateway(conditions=[PENDING, PENDING_P], addresses=(), cls="istio-gateway"),
        gatewayclass={"name": "istio-gateway", "found": False, "known": ["istio", "istio-remote"]}),
        ["Waiting for controller", "gatewayClassName: istio", "istio-gateway"]),
    "G04-istio-remote-class": (gateway_check(gateway(conditions=[ACCEPTED, cond(
        "Programmed", "True", "Programmed", "This Gateway is remote; Istio will not program it")], addresses=(),
        cls="istio-remote")), ["another cluster", "gatewayClassName", "istio"]),
    "G05-lb-pending-no-address": (gateway_check(gateway(conditions=[ACCEPTED, cond(
        "Programmed", "False", "AddressNotAssigned",
        f"Assigned to service(s) {FQDN}:8080, but failed to assign to all requested addresses: "
        f'address pending for hostname "{FQDN}"')], addresses=()), service=PENDING_SVC),
        ["LoadBalancer", "cloud-provider-kind", "port-forward", "emojivoto-istio"]),
    "G06-gateway-pod-not-ready": (gateway_check(gateway(conditions=[ACCEPTED, cond(
        "Programmed", "False", "AddressNotAssigned",
        f'Failed to assign to any requested addresses: no instances found for hostname "{FQDN}"')], addresses=())),
        ["not ready", "istiod", "Wait"]),
    "G10-allowedroutes-omitted": (_not_allowed(), ["from: Same", "from: Selector", "kubernetes.io/metadata.name",
                                                   "from: All"]),
    "G12-gateway-wrong-namespace": (route_check(route(parents=[]), gw={
        "name": "emojivoto", "namespace": "istio-ingress", "found": False, "elsewhere": ["default"]}),
        ["metadata.namespace", "namespace: istio-ingress", "delete"]),
    "G15-metallb-on-docker-desktop": (http_check(None, "timed out", url="http://172.18.255.200:8080/"),
                                      ["Docker Desktop", "cloud-provider-kind", "port-forward"]),
    "R01-parentref-namespace-missing": (route_check(route(parents=[], parent_ns=None)),
                                        ["namespace: istio-ingress", "own namespace", "parents"]),
    "R03-parentref-port-mismatch": (route_check(route(port=80, parents=[parent([cond(
        "Accepted", "False", "NoMatchingParent", "port 80 not found"), RESOLVED])])),
        ["port 80", "8080", "Remove `port`"]),
    "R04-backend-not-found": (route_check(route(backend="web", parents=[parent([ROUTE_OK, cond(
        "ResolvedRefs", "False", "BackendNotFound", "backend(web.emojivoto.svc.cluster.local) not found")])])),
        ["web-svc", "port: 80", "500"]),
    "R06-backend-port-missing": (_kubectl(
        'The HTTPRoute "emojivoto" is invalid: spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port '
        'for Service reference', ("kubectl", "apply", "-f", "httproute.yaml")), ["port: 80"]),
    "R08-route-in-gateway-namespace-no-refgrant": (route_check(route(ns="istio-ingress", backend_ns="emojivoto", parents=[
        parent([ROUTE_OK, cond("ResolvedRefs", "False", "RefNotPermitted",
                               'backendRef web-svc/emojivoto not accessible to a HTTPRoute in namespace "istio-ingress" '
                               "(missing a ReferenceGrant?)")])])), ["ReferenceGrant", "emojivoto", "500"]),
    "R09-hostnames-set": (http_check(404, routes=[route(hostnames=["emojivoto.example.com"])]),
                          ["hostnames", "Host", "emojivoto.example.com"]),
    "R11-alpha-apiversion": (_kubectl(
        'error: resource mapping not found for name: "emojivoto" namespace: "emojivoto" from "httproute.yaml": no '
        'matches for kind "HTTPRoute" in version "gateway.networking.k8s.io/v1alpha2"\nensure CRDs are installed first'),
        ["v1alpha2", "apiVersion: gateway.networking.k8s.io/v1"]),
    "A01-wrong-port": (http_check(None, "[Errno 111] Connection refused", url="http://172.18.255.200/"),
                       ["port 80", ":8080"]),
    "A02-no-route-404": (http_check(404, gw=gateway(listeners=[listener(attached=0)]), routes=[]),
                         ["404", "HTTPRoute", "attached"]),
}


def _catalog_ids() -> list[str]:
    if not CATALOG.exists():
        pytest.skip(f"{CATALOG} is not there (the shared reference folder sits next to the repository)")
    return [s["id"] for s in yaml.safe_load(CATALOG.read_text())["scenarios"]]


def _text(view) -> str:
    return " ".join([view.title, view.why, view.fix, " ".join(view.fix_command or [])]).lower()


def test_every_catalog_scenario_has_recorded_evidence_and_a_rule():
    ids = _catalog_ids()
    assert sorted(ids) == sorted(SCENARIOS), "a catalog scenario has no test evidence (or the reverse)"
    named = {c for r in load_rules() for c in r.catalog}
    assert set(ids) <= named, f"scenarios no rule lists: {sorted(set(ids) - named)}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_catalog_scenario_is_explained_with_cause_and_fix(scenario):
    evidence, words = SCENARIOS[scenario]
    view = explain_evidence(evidence)
    rule = next(r for r in load_rules() if r.id == view.rule_id)
    assert scenario in rule.catalog, f"{scenario} explained by {view.rule_id}, which does not list it"
    missing = [w for w in words if w.lower() not in _text(view)]
    assert not missing, f"{scenario}: explanation lacks {missing}:\n{view.title}\n{view.why}\n{view.fix}"
    assert "<" not in view.title, f"unfilled name in title: {view.title}"
