"""Routing decisions of the simulated Envoy, the provisioned objects and the CEL-rule validators."""

from __future__ import annotations

import istio_fixtures as fx
import pytest

from tutorial.sandbox.istio import deployment, emojivoto, routing
from tutorial.sandbox.istio import status as st

ADDR = "127.0.0.1"


def _programmed(world):
    """Give the Gateway the status istiod would write, so the data plane finds it by address."""
    world.gateways[0]["status"] = st.gateway_status(world, world.gateways[0])
    return world


def _decide(world, path="/", host=None, port=8080):
    return routing.decide(world, ADDR, port, host or f"{ADDR}:{port}", "GET", path, {}, {})


def test_blog_route_reaches_web_svc():
    decision = _decide(_programmed(fx.blog_world()))
    assert decision.status == 200
    assert decision.service["metadata"]["name"] == "web-svc"
    assert decision.route == "emojivoto/emojivoto"


def test_a02_no_route_is_404():
    world = fx.blog_world()
    world.routes.clear()
    assert _decide(_programmed(world)).status == 404


def test_r04_missing_backend_is_500():
    route = fx.httproute()
    route["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    assert _decide(_programmed(fx.blog_world(route=route))).status == 500


def test_wrong_backend_port_is_500():
    route = fx.httproute()
    route["spec"]["rules"][0]["backendRefs"][0]["port"] = 8080
    assert _decide(_programmed(fx.blog_world(route=route))).status == 500


def test_no_ready_endpoints_is_503():
    decision = _decide(_programmed(fx.blog_world(web_ready=False)))
    assert (decision.status, decision.body) == (503, "no healthy upstream")


def test_r09_route_hostnames_need_the_host_header():
    route = fx.httproute()
    route["spec"]["hostnames"] = ["emojivoto.example.com"]
    world = _programmed(fx.blog_world(route=route))
    assert _decide(world).status == 404
    assert _decide(world, host="emojivoto.example.com").status == 200


def test_g10_not_allowed_route_is_404():
    gw = fx.gateway()
    del gw["spec"]["listeners"][0]["allowedRoutes"]
    assert _decide(_programmed(fx.blog_world(gw=gw))).status == 404


def test_path_matches_pick_the_most_specific_rule():
    route = fx.httproute()
    route["spec"]["rules"] = [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": "web-svc", "port": 80}]},
        {"matches": [{"path": {"type": "Exact", "value": "/api/list"}}],
         "backendRefs": [{"name": "nope", "port": 80}]}]
    world = _programmed(fx.blog_world(route=route))
    assert _decide(world, "/api/list").status == 500
    assert _decide(world, "/api/listing").status == 200


def test_unknown_port_or_address_gets_404_from_nobody():
    world = _programmed(fx.blog_world())
    assert routing.gateways_at(world, ADDR, 9999) == []
    assert routing.gateways_at(world, "127.0.0.2", 8080) == []


def test_emojivoto_answers_and_doughnut_fails():
    status, _, body = emojivoto.respond("GET", "/", {}, "emojivoto/emojivoto")
    assert status == 200 and "<title>Emoji Vote</title>" in body and "SIMULATED" in body
    assert emojivoto.respond("GET", "/api/vote", {"choice": ":doughnut:"}, "")[0] == 500
    assert emojivoto.respond("GET", "/api/vote", {"choice": ":joy:"}, "")[0] == 200


def test_provisioned_objects_follow_istio_naming_and_labels():
    gw = fx.stored(fx.gateway())
    svc, dep = deployment.service(gw), deployment.deployment(gw)
    assert svc["metadata"]["name"] == dep["metadata"]["name"] == "emojivoto-istio"
    assert svc["spec"]["type"] == "LoadBalancer"
    assert [(p["name"], p["port"], p["appProtocol"]) for p in svc["spec"]["ports"]] == [
        ("status-port", 15021, "tcp"), ("emojivoto", 8080, "http")]
    labels = dep["metadata"]["labels"]
    assert labels["gateway.networking.k8s.io/gateway-name"] == "emojivoto"
    assert labels["gateway.istio.io/managed"] == "istio.io-gateway-controller"
    assert dep["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "istio-proxy" and container["image"].startswith("docker.io/istio/proxyv2:1.27.")
    gw["metadata"]["annotations"] = {"networking.istio.io/service-type": "ClusterIP"}
    assert deployment.service(gw)["spec"]["type"] == "ClusterIP"


def test_cluster_ip_annotation_programs_with_hostname_address():
    gw = fx.gateway()
    gw["metadata"]["annotations"] = {"networking.istio.io/service-type": "ClusterIP"}
    world = fx.blog_world(gw=gw)
    world.services[("istio-ingress", "emojivoto-istio")]["spec"]["type"] = "ClusterIP"
    status = st.gateway_status(world, world.gateways[0])
    assert fx.conditions(status)["Programmed"][0] == "True"
    assert status["addresses"] == [{"type": "Hostname", "value": fx.FQDN}]


def test_a_gateway_answers_directly_without_an_address():
    """What a port-forward to the Gateway's Service sees, LoadBalancer or not."""
    world = fx.blog_world(lb_ip=None)
    assert routing.gateways_at(world, ADDR, 8080) == []
    decision = routing.decide_for_gateway(world, world.gateways[0], 8080, "localhost:8080", "GET", "/", {}, {})
    assert decision.status == 200
    world.gateways[0]["status"] = {"addresses": [{"type": "IPAddress", "value": "port-forward"}]}
    assert routing.decide(world, "port-forward", 8080, "", "GET", "/", {}, {}).status == 200
