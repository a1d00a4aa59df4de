"""Istio's Gateway API status, computed as pure functions over a World (no cluster needed)."""

from __future__ import annotations

import istio_fixtures as fx
import pytest

from tutorial.sandbox.istio import status as st
from tutorial.sandbox.istio.model import World

PENDING = ("Failed to assign to any requested addresses: no instances found for hostname "
           f'"{fx.FQDN}"')


def _parent(world: World) -> dict:
    return st.route_status(world, world.routes[0])


def test_blog_gateway_is_accepted_programmed_with_address():
    world = fx.blog_world()
    status = st.gateway_status(world, world.gateways[0])
    conds = fx.conditions(status)
    assert conds["Accepted"] == ("True", "Accepted", "Resource accepted")
    assert conds["Programmed"] == ("True", "Programmed",
                                   f"Resource programmed, assigned to service(s) {fx.FQDN}:8080")
    assert status["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]
    (listener,) = status["listeners"]
    assert listener["name"] == "emojivoto" and listener["attachedRoutes"] == 1
    assert [k["kind"] for k in listener["supportedKinds"]] == ["HTTPRoute", "GRPCRoute"]
    assert fx.conditions(listener) == {
        "Accepted": ("True", "Accepted", "No errors found"),
        "Conflicted": ("False", "NoConflicts", "No errors found"),
        "Programmed": ("True", "Programmed", "No errors found"),
        "ResolvedRefs": ("True", "ResolvedRefs", "No errors found")}


def test_blog_route_is_accepted_and_resolved():
    (parent,) = _parent(fx.blog_world())["parents"]
    assert parent["controllerName"] == "istio.io/gateway-controller"
    assert parent["parentRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                   "name": "emojivoto", "namespace": "istio-ingress"}
    assert fx.conditions(parent) == {"Accepted": ("True", "Accepted", "Route was valid"),
                                     "ResolvedRefs": ("True", "ResolvedRefs", "All references resolved")}
    assert all(c["observedGeneration"] == 1 for c in parent["conditions"])


def test_g05_lb_pending_is_address_not_assigned_without_address():
    world = fx.blog_world(lb_ip=None)
    status = st.gateway_status(world, world.gateways[0])
    assert fx.conditions(status)["Programmed"] == (
        "False", "AddressNotAssigned",
        f"Assigned to service(s) {fx.FQDN}:8080, but failed to assign to all requested addresses: "
        f'address pending for hostname "{fx.FQDN}"')
    assert "addresses" not in status
    assert status["listeners"][0]["attachedRoutes"] == 1


def test_g06_no_ready_gateway_pod_is_no_instances_found():
    world = fx.blog_world(gateway_ready=False)
    status = st.gateway_status(world, world.gateways[0])
    assert fx.conditions(status)["Programmed"] == ("False", "AddressNotAssigned", PENDING)
    assert "addresses" not in status


def test_g03_unknown_class_writes_nothing_and_route_has_no_parents():
    world = fx.blog_world(gw=fx.gateway(gatewayClassName="istio-gateway"))
    assert st.gateway_status(world, world.gateways[0]) is None
    assert _parent(world)["parents"] == []


def test_istio_class_works_without_its_object():
    world = fx.blog_world()
    world.classes.clear()
    assert fx.conditions(st.gateway_status(world, world.gateways[0]))["Accepted"][0] == "True"


def test_g04_istio_remote_class():
    world = fx.blog_world(gw=fx.gateway(gatewayClassName="istio-remote"))
    world.classes["istio-remote"] = fx.stored({"metadata": {"name": "istio-remote"},
                                               "spec": {"controllerName": "istio.io/unmanaged-gateway"}})
    status = st.gateway_status(world, world.gateways[0])
    assert fx.conditions(status) == {
        "Accepted": ("True", "Accepted", "Resource accepted"),
        "Programmed": ("True", "Programmed", "This Gateway is remote; Istio will not program it")}
    assert "addresses" not in status


def test_g10_allowed_routes_omitted_is_not_allowed_by_listeners():
    gw = fx.gateway()
    del gw["spec"]["listeners"][0]["allowedRoutes"]
    world = fx.blog_world(gw=gw)
    (parent,) = _parent(world)["parents"]
    assert fx.conditions(parent) == {
        "Accepted": ("False", "NotAllowedByListeners",
                     'hostnames matched parent hostname "", but namespace "emojivoto" is not allowed by the parent'),
        "ResolvedRefs": ("True", "ResolvedRefs", "All references resolved")}
    assert st.gateway_status(world, world.gateways[0])["listeners"][0]["attachedRoutes"] == 0


@pytest.mark.parametrize("selector,attached", [
    ({"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["emojivoto"]}]}, 1),
    ({"matchExpressions": [{"key": "team", "operator": "Exists"}]}, 0),
    ({"matchLabels": {"kubernetes.io/metadata.name": "other"}}, 0),
])
def test_selector_match_expressions(selector, attached):
    gw = fx.gateway()
    gw["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["selector"] = selector
    world = fx.blog_world(gw=gw)
    assert st.gateway_status(world, world.gateways[0])["listeners"][0]["attachedRoutes"] == attached


def test_namespace_label_change_is_picked_up():
    gw = fx.gateway()
    gw["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["selector"] = {"matchLabels": {"expose": "yes"}}
    world = fx.blog_world(gw=gw)
    assert fx.conditions(_parent(world)["parents"][0])["Accepted"][1] == "NotAllowedByListeners"
    world.namespaces["emojivoto"]["expose"] = "yes"
    assert fx.conditions(_parent(world)["parents"][0])["Accepted"][0] == "True"


def test_g12_and_r01_unresolvable_parent_is_not_listed():
    gw = fx.gateway()
    gw["metadata"]["namespace"] = "default"
    assert _parent(fx.blog_world(gw=gw))["parents"] == []
    route = fx.httproute()
    del route["spec"]["parentRefs"][0]["namespace"]
    assert _parent(fx.blog_world(route=route))["parents"] == []


@pytest.mark.parametrize("field,value,message", [
    ("port", 80, "port 80 not found"),
    ("sectionName", "http", 'sectionName "http" not found'),
])
def test_r03_parent_port_or_section_mismatch(field, value, message):
    route = fx.httproute()
    route["spec"]["parentRefs"][0][field] = value
    (parent,) = _parent(fx.blog_world(route=route))["parents"]
    assert fx.conditions(parent)["Accepted"] == ("False", "NoMatchingParent", message)


def test_hostname_mismatch_with_listener_hostname():
    gw = fx.gateway()
    gw["spec"]["listeners"][0]["hostname"] = "emojivoto.example.com"
    route = fx.httproute()
    route["spec"]["hostnames"] = ["other.example.org"]
    (parent,) = _parent(fx.blog_world(gw=gw, route=route))["parents"]
    assert fx.conditions(parent)["Accepted"] == (
        "False", "NoMatchingListenerHostname", 'no hostnames matched parent hostname "emojivoto.example.com"')


def test_r04_backend_not_found():
    route = fx.httproute()
    route["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    (parent,) = _parent(fx.blog_world(route=route))["parents"]
    assert fx.conditions(parent) == {
        "Accepted": ("True", "Accepted", "Route was valid"),
        "ResolvedRefs": ("False", "BackendNotFound", "backend(web.emojivoto.svc.cluster.local) not found")}


def _route_in_gateway_namespace() -> dict:
    route = fx.httproute()
    route["metadata"]["namespace"] = "istio-ingress"
    route["spec"]["rules"][0]["backendRefs"][0]["namespace"] = "emojivoto"
    return route


def test_r08_cross_namespace_backend_needs_reference_grant():
    (parent,) = _parent(fx.blog_world(route=_route_in_gateway_namespace()))["parents"]
    assert fx.conditions(parent)["ResolvedRefs"] == (
        "False", "RefNotPermitted",
        'backendRef web-svc/emojivoto not accessible to a HTTPRoute in namespace "istio-ingress" '
        "(missing a ReferenceGrant?)")
    assert fx.conditions(parent)["Accepted"][1] == "NotAllowedByListeners"
    grant = {"metadata": {"name": "allow", "namespace": "emojivoto"},
             "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                                "namespace": "istio-ingress"}],
                      "to": [{"group": "", "kind": "Service"}]}}
    world = fx.blog_world(route=_route_in_gateway_namespace(), grants=[grant])
    assert fx.conditions(_parent(world)["parents"][0])["ResolvedRefs"][0] == "True"


def test_invalid_backend_kind():
    route = fx.httproute()
    route["spec"]["rules"][0]["backendRefs"][0].update(group="apps", kind="Deployment")
    (parent,) = _parent(fx.blog_world(route=route))["parents"]
    assert fx.conditions(parent)["ResolvedRefs"] == (
        "False", "InvalidKind", 'referencing unsupported backendRef: group "apps" kind "Deployment"')


def test_lower_case_protocol_is_unsupported():
    gw = fx.gateway()
    gw["spec"]["listeners"][0]["protocol"] = "http"
    world = fx.blog_world(gw=gw)
    listener = st.gateway_status(world, world.gateways[0])["listeners"][0]
    assert fx.conditions(listener)["Accepted"] == (
        "False", "UnsupportedProtocol", 'protocol "http" is unsupported. hint: "HTTP" (uppercase) may be supported')
    assert listener["supportedKinds"] == [] and listener["attachedRoutes"] == 0


def test_class_status_only_for_istio_controllers():
    gc = fx.stored(fx.gatewayclass())
    assert fx.conditions(st.class_status(gc))["Accepted"] == ("True", "Accepted", "Handled by Istio controller")
    gc["spec"]["controllerName"] = "example.com/other"
    assert st.class_status(gc) is None


def test_transition_time_kept_when_status_unchanged():
    world = fx.blog_world()
    first = st.gateway_status(world, world.gateways[0])
    world.gateways[0]["status"] = first
    stamps = [c["lastTransitionTime"] for c in first["conditions"]]
    again = st.gateway_status(world, world.gateways[0])
    assert [c["lastTransitionTime"] for c in again["conditions"]] == stamps


def _manual(address: str, port: int):
    gw = fx.gateway(addresses=[{"type": "Hostname", "value": address}])
    gw["spec"]["listeners"][0]["port"] = port
    ingress = fx.service("istio-system", "istio-ingressgateway", [15021, 80, 443], "LoadBalancer", "127.0.0.1")
    ingress["spec"]["ports"][1]["targetPort"] = 8080
    world = fx.blog_world(gw=gw, extra_services=[ingress])
    world.endpoints[("istio-system", "istio-ingressgateway")] = fx.endpoints("istio-system", "istio-ingressgateway")
    return world, st.gateway_status(world, world.gateways[0])


def test_manual_mode_binds_to_the_named_service():
    fqdn = "istio-ingressgateway.istio-system.svc.cluster.local"
    world, status = _manual(fqdn, 80)
    assert not st.is_managed(world.gateways[0])
    assert fx.conditions(status)["Programmed"] == (
        "True", "Programmed", f"Resource programmed, assigned to service(s) {fqdn}:80")
    assert status["addresses"] == [{"type": "IPAddress", "value": "127.0.0.1"}]


def test_manual_mode_workload_port_gets_istio_hint():
    fqdn = "istio-ingressgateway.istio-system.svc.cluster.local"
    _, status = _manual(fqdn, 8080)
    assert fx.conditions(status)["Programmed"] == (
        "False", "AddressNotUsable",
        f'Failed to assign to any requested addresses: port 8080 not found for hostname "{fqdn}" (hint: the '
        "service port should be specified, not the workload port. Did you mean one of these ports: [80]?)")
    _, status = _manual("missing", 80)
    assert fx.conditions(status)["Programmed"] == (
        "False", "AddressNotUsable", 'Failed to assign to any requested addresses: hostname '
        '"missing.istio-ingress.svc.cluster.local" not found')
