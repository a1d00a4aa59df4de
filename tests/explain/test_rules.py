"""One recorded failure per built-in rule: each must be explained by exactly that rule, with the
learner's names filled in. A rule without a case here fails the suite (docs/explanations.md
lists these cases as the rule's test)."""

from __future__ import annotations

import pytest

from recorded import (FQDN, cond, event, gateway, gateway_check, http_check, listener, parent, pod, route,
                      route_check, workload_check, command_check, check)
from tutorial.engine.explain import explain_evidence
from tutorial.engine.explain_rules import load_rules

OK_ACCEPTED = cond("Accepted", "True", "Accepted", "Resource accepted")
RESOLVED = cond("ResolvedRefs", "True", "ResolvedRefs", "All references resolved")
ROUTE_OK = cond("Accepted", "True", "Accepted", "Route was valid")
PENDING_SVC = {"name": "emojivoto-istio", "namespace": "istio-ingress", "type": "LoadBalancer", "external": [],
               "ports": [15021, 8080]}
SCHED = "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."


def cmd(output, *argv, missing=None, timed_out=False, exit_code=1):
    return command_check(list(argv or ("kubectl", "apply", "-f", "gateway.yaml")), output, exit_code=exit_code,
                         missing=missing, timed_out=timed_out)


def unreachable(error):
    return {"check": check("gateway_programmed", "gateway-programmed", error, error=error, unreachable=True)}


def gw(*conds, **kw):
    return gateway_check(gateway(conditions=[OK_ACCEPTED, *conds] if conds else None, addresses=(), **kw))


def gw_only(*conds, **kw):
    return gateway_check(gateway(conditions=list(conds), addresses=(), **kw))


def lst(*conds):
    g = gateway(listeners=[listener(conditions=[*conds])])
    return gateway_check(g, kind="listener_attached_routes", routes=[route()])


def rt(*conds, **kw):
    return route_check(route(parents=[parent(list(conds))], **kw))


def gc(type_, status, reason, message, controller="istio.io/gateway-controller", **extra):
    ev = {"check": check("condition", "class-accepted", f"GatewayClass istio: {type_}={status}"),
          "params": {"object_kind": "GatewayClass", "name": "istio"},
          "object": {"kind": "GatewayClass", "name": "istio", "namespace": None, "found": True},
          "conditions": [cond(type_, status, reason, message)],
          "gatewayclass": {"name": "istio", "found": True, "controller": controller,
                           "conditions": [cond(type_, status, reason, message)]}}
    ev.update(extra)
    return ev


def pods(state, message="", ns="emojivoto", **kw):
    return workload_check([pod(state=state, message=message, ns=ns, **kw)], ns=ns)


def missing(kind, name, ns, check_kind, **extra):
    ev = {"check": check(check_kind, "c", f"{kind} {name} not found"), "params": {"name": name, "namespace": ns},
          "object": {"kind": kind, "name": name, "namespace": ns, "found": False}}
    ev.update(extra)
    return ev


VERSIONS = {"gateways.gateway.networking.k8s.io": "v1.5.0"}

CASES = {
    # -- kubectl, helm, istioctl ------------------------------------------------------
    "cli-missing-kubectl": cmd("", "kubectl", "apply", missing="kubectl"),
    "cli-missing-helm": cmd("", "helm", "install", missing="helm"),
    "cli-missing-istioctl": cmd("", "istioctl", "install", missing="istioctl"),
    "cli-missing-executable": cmd("", "curl", missing="curl"),
    "cli-gateway-api-downgrade-refused": cmd(
        'The customresourcedefinitions "gateways.gateway.networking.k8s.io" is invalid: : ValidatingAdmissionPolicy '
        "'safe-upgrades.gateway.networking.k8s.io' with binding 'safe-upgrades.gateway.networking.k8s.io' denied "
        "request: Installing CRDs with version before v1.5.0 is prohibited by default. Uninstall "
        "ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io to install older versions.",
        "kubectl", "apply", "-f", "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/"
        "standard-install.yaml"),
    "cli-kustomize-wrong-dir": cmd("error: must build at directory: not a valid directory: evalsymlink failure on "
                                   "'kustomize/' : lstat /home/u/kustomize: no such file or directory",
                                   "kubectl", "apply", "-k", "kustomize/"),
    "cli-kustomize-remote-base": cmd("error: accumulating resources: accumulation err='accumulating resources from "
                                     "'github.com/BuoyantIO/emojivoto/kustomize/deployment': ... no 'git' program on path'",
                                     "kubectl", "apply", "-k", "kustomize/"),
    "cli-crd-stored-versions": cmd('The CustomResourceDefinition "referencegrants.gateway.networking.k8s.io" is invalid: '
                                   'status.storedVersions[0]: Invalid value: "v1alpha2": must appear in spec.versions'),
    "cli-no-kind-alpha-version": cmd('error: resource mapping not found for name: "emojivoto" namespace: "emojivoto" from '
                                     '"r.yaml": no matches for kind "HTTPRoute" in version "gateway.networking.k8s.io/v1alpha2"'),
    "cli-no-kind-gateway-api": cmd('no matches for kind "HTTPRoute" in version "gateway.networking.k8s.io/v1"'),
    "check-gateway-api-not-served": {"check": check("gateway_programmed", "gp", "x", error=(
        "the server does not serve gateway.networking.k8s.io/v1 (no such API group/version)"))},
    "cli-no-kind-istio": cmd('no matches for kind "VirtualService" in version "networking.istio.io/v1"'),
    "cli-no-kind": cmd('error: unable to recognize "x.yaml": no matches for kind "Widget" in version "example.com/v1"'),
    "cli-istio-too-old-grpcroute": cmd("error watch error in cluster Kubernetes: failed to list *v1alpha2.GRPCRoute: "
                                       "the server could not find the requested resource (get grpcroutes...)"),
    "cli-server-not-found-resource": cmd("Error from server (NotFound): the server could not find the requested resource"),
    "cli-namespace-not-found": cmd('Error from server (NotFound): error when creating "gateway.yaml": namespaces '
                                   '"istio-ingress" not found'),
    "cli-backend-port-missing": cmd('The HTTPRoute "emojivoto" is invalid: spec.rules[0].backendRefs[0]: Invalid value: '
                                    '"object": Must have port for Service reference'),
    "cli-immutable-field": cmd('The Deployment "web" is invalid: spec.selector: Invalid value: '
                               'v1.LabelSelector{MatchLabels:map[string]string{"app":"web"}}: field is immutable'),
    "cli-gatewayclass-controller-immutable": cmd('The GatewayClass "istio" is invalid: spec.controllerName: Invalid '
                                                 'value: "string": Value is immutable'),
    "cli-istio-gateway-short-name": cmd('Error from server (NotFound): gateways.networking.istio.io "emojivoto" '
                                        "not found", "kubectl", "get", "gw", "emojivoto", "-n", "istio-ingress"),
    "cli-unknown-field": cmd('Error from server (BadRequest): error when creating "gw.yaml": Gateway in version "v1" '
                             'cannot be handled as a Gateway: strict decoding error: unknown field "spec.listener"'),
    "cli-invalid-object": cmd('The Gateway "emojivoto" is invalid: spec.listeners[0].name: Invalid value: "HTTP": '
                              "spec.listeners[0].name in body should match '^[a-z0-9]...'"),
    "cli-already-exists-namespace": cmd('Error from server (AlreadyExists): namespaces "emojivoto" already exists',
                                        "kubectl", "create", "ns", "emojivoto"),
    "cli-already-exists": cmd('Error from server (AlreadyExists): gateways.gateway.networking.k8s.io "emojivoto" '
                              "already exists", "kubectl", "create", "-f", "gw.yaml"),
    "cli-helm-name-in-use": cmd("Error: INSTALLATION FAILED: cannot re-use a name that is still in use",
                                "helm", "install", "istiod", "istio/istiod"),
    "cli-helm-wait-timeout": cmd("Error: INSTALLATION FAILED: context deadline exceeded", "helm", "install",
                                 "istio-ingress", "istio/gateway", "--wait"),
    "cli-helm-repo-missing": cmd('Error: INSTALLATION FAILED: repo istio not found', "helm", "install", "istio-base",
                                 "istio/base"),
    "cli-istioctl-not-ready": cmd("\u2718 Istiod encountered an error: failed to wait for resource: resources not ready "
                                  "after 5m0s: context deadline exceeded", "istioctl", "install"),
    "cli-wait-timeout": cmd("error: timed out waiting for the condition on gateways/emojivoto", "kubectl", "wait"),
    "cli-forbidden": cmd('Error from server (Forbidden): customresourcedefinitions.apiextensions.k8s.io is forbidden: '
                         'User "dev" cannot create resource'),
    "cli-unauthorized": unreachable("error: You must be logged in to the server (Unauthorized)"),
    "cli-x509": cmd("Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by "
                    "unknown authority"),
    "cli-context-not-found": cmd('error: context "kind-demo" does not exist', "kubectl", "get", "pods"),
    "cli-connection-refused": unreachable("cannot reach the API server at https://127.0.0.1:6443: connection refused"),
    "cli-no-such-host": cmd("Unable to connect to the server: dial tcp: lookup my-cluster.example.com: no such host"),
    "cli-kubeconfig-unreadable": unreachable("cannot load kubeconfig: Invalid kube-config file. No configuration found."),
    "cli-last-applied-warning": cmd("Warning: resource gatewayclasses/istio is missing the kubectl.kubernetes.io/"
                                    "last-applied-configuration annotation which is required by kubectl apply.",
                                    exit_code=0),
    "cli-timed-out": cmd("", "helm", "install", "istiod", timed_out=True, exit_code=None),
    # -- Istio ------------------------------------------------------------------------
    "istio-gateway-image-auto": pods("ImagePullBackOff", 'Back-off pulling image "auto": ErrImagePull: failed to pull '
                                     'and unpack image "docker.io/library/auto:latest"', ns="istio-ingress", image="auto"),
    "istio-istiod-insufficient-memory": workload_check([pod("istiod-7d4f9c-abcde", "istio-system", "Unschedulable",
                                                            SCHED, image="docker.io/istio/pilot:1.27.0")], ns="istio-system",
                                                       istio={"installed": True, "version": "1.27.1", "ready": False,
                                                              "installer": "helm"}),
    "istio-istiod-insufficient-memory-istioctl": workload_check(
        [pod("istiod-7d4f9c-abcde", "istio-system", "Unschedulable", SCHED, image="docker.io/istio/pilot:1.27.1")],
        ns="istio-system", istio={"installed": True, "version": "1.27.1", "ready": False, "installer": "istioctl"}),
    "istio-istiod-insufficient-memory-event": workload_check(
        [], ns="istio-system", events=[event("Pod", "istiod-7d4f9c-abcde", "FailedScheduling", SCHED, ns="istio-system")],
        istio={"installed": True, "version": "1.27.1", "ready": False}),
    "istio-crds-too-new": workload_check([pod("istiod-7d4f9c-abcde", "istio-system", "Running")], ns="istio-system",
                                         istio={"installed": True, "version": "1.27.0", "ready": False},
                                         crds={"bundle_versions": VERSIONS}),
    "istio-too-old-for-crds": workload_check([], ns="istio-system", istio={"installed": True, "version": "1.21.0"},
                                             crds={"bundle_versions": {"gateways.gateway.networking.k8s.io": "v1.3.0"}}),
    "istio-crds-older": workload_check([], ns="istio-system", istio={"installed": True, "version": "1.28.1"},
                                       crds={"bundle_versions": {"gateways.gateway.networking.k8s.io": "v1.3.0"}}),
    "istio-remote-class": gw(cond("Programmed", "True", "Programmed", "This Gateway is remote; Istio will not program it"),
                             cls="istio-remote"),
    "istio-gateway-istiod-missing": gateway_check(gateway(conditions=[cond("Accepted", "Unknown", "Pending",
                                                                           "Waiting for controller")], addresses=()),
                                                  istio={"installed": False, "ready": False}),
    "istio-gateway-class-missing": gateway_check(gateway(conditions=[cond("Accepted", "Unknown", "Pending",
                                                                          "Waiting for controller")], cls="istio-gw"),
                                                 gatewayclass={"name": "istio-gw", "found": False, "known": ["istio"]}),
    "istio-gateway-class-other-controller": gateway_check(
        gateway(conditions=[cond("Accepted", "Unknown", "Pending", "Waiting for controller")], cls="mine"),
        gatewayclass={"name": "mine", "found": True, "controller": "istio.io/gateway-controler"}),
    "istio-lb-pending": gw(cond("Programmed", "False", "AddressNotAssigned", f"Assigned to service(s) {FQDN}:8080, "
                                f'but failed to assign to all requested addresses: address pending for hostname "{FQDN}"')),
    "istio-no-instances-pod-failing": gateway_check(gateway(conditions=[OK_ACCEPTED, cond(
        "Programmed", "False", "AddressNotAssigned", f'Failed to assign to any requested addresses: no instances found '
        f'for hostname "{FQDN}"')], addresses=()), pods=[pod("emojivoto-istio-5c9d7-abcde", "istio-ingress",
                                                            "CrashLoopBackOff", restarts=3)]),
    "istio-no-instances": gw(cond("Programmed", "False", "AddressNotAssigned",
                                  f'Failed to assign to any requested addresses: no instances found for hostname "{FQDN}"')),
    "istio-address-service-port-not-found": gw(cond("Programmed", "False", "AddressNotUsable", (
        'Failed to assign to any requested addresses: port 8080 not found for hostname "istio-ingress.istio-ingress.svc.'
        'cluster.local" (hint: the service port should be specified, not the workload port.)'))),
    "sandbox-port-held-by-another-program": gw(cond("Programmed", "False", "AddressNotUsable", (
        f'Assigned to service(s) {FQDN}:8080, but failed to assign to all requested addresses: port 9090 of '
        f'hostname "{FQDN}" is not usable: SIMULATED data plane cannot listen on 127.40.7.2:9090: Address '
        'already in use; nginx (pid 4242) holds that port'))),
    "istio-address-service-not-found": gw(cond("Programmed", "False", "AddressNotUsable",
                                               f'Failed to assign to any requested addresses: hostname "{FQDN}" not found')),
    "istio-listener-protocol-case": lst(cond("Accepted", "False", "UnsupportedProtocol",
                                             'protocol "http" is unsupported. hint: "HTTP" (uppercase) may be supported')),
    "istio-listener-alpha-protocol": lst(cond("Accepted", "False", "UnsupportedProtocol", 'protocol "TCP" is supported, '
                                              "but only when PILOT_ENABLE_ALPHA_GATEWAY_API=true is configured")),
    "istio-route-backend-hostname": rt(ROUTE_OK, cond("ResolvedRefs", "False", "InvalidDestination",
                                                      "service name invalid; the name of the Service must be used, not the hostname.")),
    # -- pods -------------------------------------------------------------------------
    "pod-oomkilled": pods("CrashLoopBackOff", last_reason="OOMKilled", exit_code=137, restarts=4),
    "pod-image-pull-no-such-host": pods("ErrImagePull", 'failed to pull and unpack image "docker.l5d.io/buoyantio/'
                                        'emojivoto-web:v11": dial tcp: lookup docker.l5d.io: no such host'),
    "pod-image-pull-not-found": pods("ErrImagePull", 'rpc error: failed to pull and unpack image "docker.l5d.io/'
                                     'buoyantio/emojivoto-web:v111": docker.l5d.io/buoyantio/emojivoto-web:v111: not found'),
    "pod-image-pull": pods("ImagePullBackOff", 'Back-off pulling image "docker.l5d.io/buoyantio/emojivoto-web:v11"'),
    "pod-create-config-missing": pods("CreateContainerConfigError", 'configmap "web-config" not found'),
    "pod-create-config-error": pods("CreateContainerConfigError", "couldn't find key WEB_PORT in ConfigMap emojivoto/web"),
    "deployment-scaled-to-zero": workload_check([], deployments=[{"name": "web", "namespace": "emojivoto",
                                                                  "replicas": 0, "ready": 0}]),
    "k3s-servicelb-port-taken": workload_check([pod("svclb-emojivoto-istio-5d1c8a7e-abcde", "kube-system", "Unschedulable",
                                                    "0/1 nodes are available: 1 node(s) didn't have free ports for the "
                                                    "requested pod ports.")], ns="kube-system"),
    "pod-crashloop-gateway-proxy": workload_check([pod("emojivoto-istio-6c9d8f7b5-x2x9q", "istio-ingress", "CrashLoopBackOff",
                                                       "back-off 10s restarting failed container=istio-proxy",
                                                       last_reason="Error", exit_code=255, restarts=4,
                                                       container="istio-proxy", image="docker.io/istio/proxyv2:1.27.1")],
                                                  ns="istio-ingress"),
    "route-backend-port-not-service-port": {
        "check": check("route_backend_ports", "backend-port", "HTTPRoute emojivoto: backendRef web-svc port 8080 ..."),
        "params": {"name": "emojivoto", "namespace": "emojivoto"},
        "object": {"kind": "HTTPRoute", "name": "emojivoto", "namespace": "emojivoto", "found": True},
        "backend_ports": [{"route": "emojivoto", "route_ns": "emojivoto", "rule": 0, "ref": 0, "service": "web-svc",
                           "namespace": "emojivoto", "port": 8080, "service_ports": [80], "target_ports": [8080]}],
        "cluster": {"flavor": "kind"}},
    "pod-crashloop": pods("CrashLoopBackOff", "back-off 10s restarting failed container=web-svc", last_reason="Error",
                          exit_code=1, restarts=3),
    "pod-run-container-error": pods("RunContainerError", 'exec: "emojivoto-web": executable file not found in $PATH'),
    "pod-unschedulable-resources": pods("Unschedulable", "0/1 nodes are available: 1 Insufficient cpu."),
    "pod-unschedulable-taint": pods("Unschedulable", "0/1 nodes are available: 1 node(s) had untolerated taint "
                                    "{node-role.kubernetes.io/control-plane: }."),
    "pod-unschedulable-affinity": pods("Unschedulable", "0/1 nodes are available: 1 node(s) didn't match Pod's node "
                                       "affinity/selector."),
    "pod-unschedulable-pvc": pods("Unschedulable", "0/1 nodes are available: pod has unbound immediate "
                                  "PersistentVolumeClaims."),
    "pod-unschedulable": pods("Unschedulable", "0/1 nodes are available: 1 node(s) were unschedulable."),
    "pod-failed-create": workload_check([], events=[event("ReplicaSet", "web-6d8f9c7b5d", "FailedCreate", 'Error '
                                        'creating: pods "web-6d8f9c7b5d-" is forbidden: exceeded quota: compute')]),
    "pod-container-creating": pods("ContainerCreating"),
    "pod-running-not-ready": pods("Running"),
    # -- routes -----------------------------------------------------------------------
    "route-kind-not-allowed": rt(cond("Accepted", "False", "NotAllowedByListeners",
                                      "kind gateway.networking.k8s.io/v1/HTTPRoute is not allowed"), RESOLVED),
    "route-not-allowed-same-namespace": route_check(route(parents=[parent([cond(
        "Accepted", "False", "NotAllowedByListeners", 'hostnames matched parent hostname "", but namespace "emojivoto" '
        "is not allowed by the parent")])]), gw=gateway(listeners=[listener(allowed_from="Same")])),
    "route-not-allowed-selector-name": route_check(route(parents=[parent([cond(
        "Accepted", "False", "NotAllowedByListeners", 'namespace "emojivoto" is not allowed by the parent')])]),
        gw=gateway(listeners=[listener(selector={"kubernetes.io/metadata.name": "emojivot"})])),
    "route-not-allowed-selector-label": route_check(route(parents=[parent([cond(
        "Accepted", "False", "NotAllowedByListeners", 'namespace "emojivoto" is not allowed by the parent')])]),
        gw=gateway(listeners=[listener(selector={"shared-gateway-access": "true"})])),
    "route-not-allowed": route_check(route(parents=[parent([cond(
        "Accepted", "False", "NotAllowedByListeners", 'namespace "emojivoto" is not allowed by the parent')])]),
        gw=gateway(listeners=[listener(allowed_from="All")])),
    "route-no-matching-hostname": rt(cond("Accepted", "False", "NoMatchingListenerHostname",
                                          'no hostnames matched parent hostname "*.example.com"'), hostnames=["emoji.local"]),
    "route-no-matching-parent-port": rt(cond("Accepted", "False", "NoMatchingParent", "port 80 not found"), port=80),
    "route-no-matching-parent-section": rt(cond("Accepted", "False", "NoMatchingParent", 'sectionName "http" not found')),
    "route-no-matching-parent": rt(cond("Accepted", "False", "NoMatchingParent", "no listener matched")),
    "route-unsupported-value": rt(cond("Accepted", "False", "UnsupportedValue", "unsupported path match type")),
    "route-incompatible-filters": rt(cond("Accepted", "False", "IncompatibleFilters", "RequestRedirect and URLRewrite")),
    "route-pending": rt(cond("Accepted", "Unknown", "Pending", "Waiting for controller")),
    "route-ref-not-permitted": rt(ROUTE_OK, cond("ResolvedRefs", "False", "RefNotPermitted", "missing a ReferenceGrant?"),
                                  ns="istio-ingress", backend_ns="emojivoto"),
    "route-invalid-kind": rt(ROUTE_OK, cond("ResolvedRefs", "False", "InvalidKind",
                                            'referencing unsupported backendRef: group "apps" kind "Deployment"')),
    "route-backend-not-found": rt(ROUTE_OK, cond("ResolvedRefs", "False", "BackendNotFound",
                                                 "backend(web.emojivoto.svc.cluster.local) not found"), backend="web"),
    "route-unsupported-protocol": rt(ROUTE_OK, cond("ResolvedRefs", "False", "UnsupportedProtocol", "appProtocol x")),
    "route-partially-invalid": rt(ROUTE_OK, RESOLVED, cond("PartiallyInvalid", "True", "UnsupportedValue",
                                                           "Dropped Rule 1: unsupported filter")),
    "route-parents-namespace-omitted": route_check(route(parents=[], parent_ns=None)),
    "route-parents-gateway-elsewhere": route_check(route(parents=[]), gw={"name": "emojivoto", "namespace": "istio-ingress",
                                                                          "found": False, "elsewhere": ["default"]}),
    "route-parents-gateway-missing": route_check(route(parents=[]), gw={"name": "emojivoto", "namespace": "istio-ingress",
                                                                        "found": False, "elsewhere": []}),
    "route-parents-empty": route_check(route(parents=[])),
    "route-not-found": {**missing("HTTPRoute", "emojivoto", "emojivoto", "route_accepted"),
                        "route_missing": {"name": "emojivoto", "namespace": "emojivoto"}},
    # -- listeners --------------------------------------------------------------------
    "listener-port-unavailable": lst(cond("Accepted", "False", "PortUnavailable", "port 8080 in use")),
    "listener-unsupported-protocol": lst(cond("Accepted", "False", "UnsupportedProtocol", "protocol UDP unsupported")),
    "listener-pending": lst(cond("Accepted", "Unknown", "Pending", "Waiting for controller")),
    "listener-hostname-conflict": lst(cond("Conflicted", "True", "HostnameConflict", "hostname conflict")),
    "listener-protocol-conflict": lst(cond("Conflicted", "True", "ProtocolConflict", "protocol conflict")),
    "listener-invalid-certificate": lst(cond("ResolvedRefs", "False", "InvalidCertificateRef", "secret missing")),
    "listener-invalid-route-kinds": lst(cond("ResolvedRefs", "False", "InvalidRouteKinds", "Invalid route kinds")),
    "listener-ref-not-permitted": lst(cond("ResolvedRefs", "False", "RefNotPermitted", "cross-namespace secret")),
    "listener-programmed-invalid": lst(cond("Programmed", "False", "Invalid", "Bad TLS configuration")),
    "listener-overlapping-tls": lst(cond("OverlappingTLSConfig", "True", "OverlappingHostnames", "overlap")),
    "listener-no-routes-none-applied": gateway_check(gateway(listeners=[listener(attached=0)]),
                                                     kind="listener_attached_routes", routes=[]),
    # -- gateways ---------------------------------------------------------------------
    "gateway-elsewhere": {**missing("Gateway", "emojivoto", "istio-ingress", "gateway_programmed"),
                          "gateway": {"name": "emojivoto", "namespace": "istio-ingress", "found": False,
                                      "elsewhere": ["default"]}},
    "gateway-not-found": missing("Gateway", "emojivoto", "istio-ingress", "gateway_programmed"),
    "gateway-listeners-not-valid": gw_only(cond("Accepted", "False", "ListenersNotValid", "listener invalid")),
    "gateway-invalid-parameters": gw_only(cond("Accepted", "False", "InvalidParameters", "bad parametersRef")),
    "gateway-unsupported-address": gw_only(cond("Accepted", "False", "UnsupportedAddress", "IPAddress unsupported")),
    "gateway-accepted-invalid": gw_only(cond("Accepted", "False", "Invalid", "invalid gateway")),
    "gateway-no-resources": gw(cond("Programmed", "False", "NoResources", "insufficient resources")),
    "gateway-address-not-assigned": gw(cond("Programmed", "False", "AddressNotAssigned", "no address yet")),
    "gateway-address-not-usable": gw(cond("Programmed", "False", "AddressNotUsable", "address 10.0.0.9 in use")),
    "gateway-programmed-invalid": gw(cond("Programmed", "False", "Invalid", "invalid")),
    "gateway-waiting-for-controller": gw_only(cond("Accepted", "Unknown", "Pending", "Waiting for controller")),
    "gateway-programmed-pending": gw(cond("Programmed", "False", "Pending", "not yet online")),
    "gateway-no-address-yet": gateway_check(gateway(addresses=()), service=PENDING_SVC),
    "deprecated-condition": gw(cond("Scheduled", "False", "NotReconciled", "Waiting for controller")),
    # -- gateway classes --------------------------------------------------------------
    "class-not-found-istio": missing("GatewayClass", "istio", None, "condition"),
    # a Gateway edited in place to a class that does not exist: its old status stays (Accepted True)
    "class-not-found": {**gateway_check(gateway(cls="istio-gateway", addresses=())),
                        "gatewayclass": {"name": "istio-gateway", "found": False, "known": ["istio"]}},
    "class-invalid-parameters": gc("Accepted", "False", "InvalidParameters", "parametersRef not found"),
    "class-unsupported": gc("Accepted", "False", "Unsupported", "custom classes unsupported"),
    "class-unsupported-version": gc("SupportedVersion", "False", "UnsupportedVersion", "CRD v0.9 unsupported"),
    "class-waiting-for-controller": gc("Accepted", "Unknown", "Pending", "Waiting for controller", "example.com/x"),
    # -- HTTP through the Gateway -----------------------------------------------------
    "http-doughnut-500": http_check(500, url="http://172.18.255.200:8080/api/vote?choice=:doughnut:"),
    "http-wrong-service": http_check(200, url="http://172.18.255.201:8080/", service={
        "name": "istio-ingress", "namespace": "istio-ingress", "type": "LoadBalancer", "external": ["172.18.255.201"]}),
    "http-wrong-port": http_check(None, "[Errno 111] Connection refused", url="http://172.18.255.200/"),
    "http-address-unreachable-private": http_check(None, "timed out"),
    "http-no-address": {**http_check(None), "http": {"url": None, "status": None, "error": "no address", "host": None,
                                                     "port": None, "body": ""}},
    "http-connection-refused": http_check(None, "[Errno 111] Connection refused", url="http://203.0.113.7:8080/"),
    "http-no-answer": http_check(None, "[Errno 113] something else", url="http://203.0.113.7:8080/"),
    "http-404-hostnames": http_check(404, routes=[route(hostnames=["emojivoto.example.com"])]),
    "http-404-nothing-attached": http_check(404, gw=gateway(listeners=[listener(attached=0)]), routes=[route()]),
    "http-404": http_check(404),
    "http-500": http_check(500),
    "http-503": http_check(503),
    "http-content-mismatch": http_check(200),
    # -- last resorts -----------------------------------------------------------------
    "crd-missing": {"check": check("crd_established", "crds", "2/3 established"),
                    "missing": ["httproutes.gateway.networking.k8s.io"]},
    "namespace-missing": missing("Namespace", "istio-ingress", None, "namespace_exists"),
    "object-not-found": missing("Service", "web-svc", "emojivoto", "resource_exists"),
    "condition-false": {"check": check("condition", "c", "Widget w: Ready=False"), "params": {},
                        "object": {"kind": "Widget", "name": "w", "namespace": "x", "found": True},
                        "conditions": [cond("Ready", "False", "Broken", "it broke")]},
    "pod-not-ready": pods("Terminating"),
    "command-failed": cmd("error: something unusual happened", "kubectl", "apply"),
}


def test_every_rule_has_a_case():
    ids = [r.id for r in load_rules()]
    assert sorted(set(ids) - set(CASES)) == [], "rules without a recorded case"
    assert sorted(set(CASES) - set(ids)) == [], "cases for rules that do not exist"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule(rule_id):
    view = explain_evidence(CASES[rule_id])
    assert view.rule_id == rule_id, f"{rule_id}: explained by {view.rule_id} instead ({view.title})"
    for text in (view.title, view.why, view.fix):
        assert "<" not in text.replace("<pending>", "").replace("<-", ""), f"{rule_id}: unfilled name in {text!r}"
    assert view.observed, f"{rule_id}: nothing quoted from the cluster"
    if next(r for r in load_rules() if r.id == rule_id).fix_command:
        assert view.fix_command, f"{rule_id}: fix command could not be filled in"
