"""The map built from hand-written cluster states (pure: no cluster), and its rendering."""

from __future__ import annotations

from rich.console import Console

from tutorial.commands.map import render
from tutorial.engine.trafficmap import build_map


def _gateway(class_name="istio", conditions=None) -> dict:
    return {"metadata": {"name": "emojivoto", "namespace": "istio-ingress"},
            "spec": {"gatewayClassName": class_name,
                     "listeners": [{"name": "http", "port": 8080, "protocol": "HTTP"}]},
            "status": {"conditions": conditions or [
                {"type": "Accepted", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller"},
                {"type": "Programmed", "status": "Unknown", "reason": "Pending", "message": "Waiting for controller"}]}}


def _text(tmap, width: int) -> str:
    out = Console(width=width, record=True, file=open("/dev/null", "w"), color_system=None)
    out.print(render(tmap, width))
    return out.export_text()


def test_empty_cluster_says_there_is_no_gateway():
    tmap = build_map({"gateways": [], "routes": []})
    assert tmap.root.children == [] and tmap.state == "broken"
    assert "No Gateway yet" in tmap.notes[0]
    assert "No Gateway yet" in _text(tmap, 80)


def test_gateway_with_unknown_class_waits_for_a_controller():
    snap = {"gateways": [_gateway("istio-gateway")], "classes": [{"metadata": {"name": "istio"},
                                                                  "spec": {"controllerName": "istio.io/gateway-controller"}}]}
    tmap = build_map(snap)
    gw = tmap.root.children[0]
    assert (gw.state, gw.word) == ("pending", "Waiting for controller")
    assert gw.link.word == "no address"
    assert gw.explanation["rule"] == "istio-gateway-class-missing"
    service = gw.children[0]
    assert (service.state, service.word) == ("broken", "not created (yet)")
    assert service.explanation == gw.explanation


def test_route_to_a_missing_gateway_is_attached_nowhere():
    route = {"metadata": {"name": "shop", "namespace": "shop"},
             "spec": {"parentRefs": [{"name": "front", "namespace": "edge"}],
                      "rules": [{"matches": [{"path": {"type": "Exact", "value": "/cart"}, "method": "GET"}],
                                 "backendRefs": [{"name": "cart", "port": 80}]}]},
             "status": {"parents": []}}
    tmap = build_map({"gateways": [], "routes": [route]})
    orphan = tmap.unattached[0]
    assert orphan.detail[0] == "parentRef → Gateway edge/front: not found"
    assert "rule 1: GET Exact /cart → cart:80" in orphan.detail
    assert orphan.explanation["rule"] == "route-parents-gateway-missing"
    text = _text(tmap, 80)
    assert "Attached nowhere" in text and "HTTPRoute shop/shop" in text


def test_narrow_rendering_is_a_flat_list_with_link_words():
    tmap = build_map({"gateways": [_gateway()], "classes": []})
    wide, narrow = _text(tmap, 80), _text(tmap, 40)
    assert "▼" in wide and "▼" not in narrow
    assert "… Gateway istio-ingress/emojivoto:" in narrow and "(no address)" in narrow


def test_conflicted_listener_is_broken_and_explained():
    import copy

    from mapstates import blog

    snap = copy.deepcopy(blog())
    conds = snap["gateways"][0]["status"]["listeners"][0]["conditions"]
    conds[3] = {"type": "Conflicted", "status": "True", "reason": "ProtocolConflict", "message": "same port"}
    listener = next(n for n in build_map(snap).nodes() if n.kind == "listener")
    assert (listener.state, listener.word) == ("broken", "ProtocolConflict")
    assert listener.explanation["rule"] == "listener-protocol-conflict"


def test_remote_class_gateway_is_flagged_with_its_explanation():
    gw = _gateway("istio-remote", [
        {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Resource accepted"},
        {"type": "Programmed", "status": "True", "reason": "Programmed",
         "message": "This Gateway is remote; Istio will not program it"}])
    node = build_map({"gateways": [gw]}).root.children[0]
    assert node.state == "warn" and node.word.startswith("remote")
    assert node.explanation["rule"] == "istio-remote-class"
