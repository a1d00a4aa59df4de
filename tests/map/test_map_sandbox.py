"""The traffic map on the sandbox: the blog built by the real lessons, then a learner's mistake made
with real kubectl (or a sandbox fault); the map must mark the right link and explain it.

One cluster serves the module; each scenario puts the blog back afterwards.
"""

from __future__ import annotations

import queue
import threading

import pytest

from sandboxlab import GW, RT, asset
from tutorial.engine.trafficmap import follow, traffic_map

CHAIN = ["client", "gateway", "service", "pods", "listener", "route", "backend", "pods"]


@pytest.fixture
def mistake(blog):
    """The blog as the lessons leave it, before and after each test."""
    yield blog
    blog.apply(asset("gateway.yaml"), asset("httproute.yaml"))  # apply puts back what a test changed
    blog.wait("--for=condition=programmed", f"{GW}/emojivoto", "-n", "istio-ingress")
    blog.wait("--for=jsonpath={.status.parents[0].conditions[1].status}=True", f"{RT}/emojivoto", "-n", "emojivoto")


def _path(tmap) -> list:
    """The single chain from the client down (the blog has no branches)."""
    nodes, node = [], tmap.root
    while True:
        nodes.append(node)
        if not node.children:
            return nodes
        assert len(node.children) == 1, [c.id for c in node.children]
        node = node.children[0]


def _by_kind(tmap, kind: str, nth: int = 0):
    return [n for n in _path(tmap) if n.kind == kind][nth]


def test_completed_tutorial_is_healthy_end_to_end(blog):
    tmap = traffic_map(blog.engine)
    path = _path(tmap)
    assert [n.kind for n in path] == CHAIN
    assert tmap.state == "ok" and tmap.problems() == [] and tmap.unattached == []
    gw, listener, route, backend, app = path[1], path[4], path[5], path[6], path[7]
    assert gw.word == "Programmed" and gw.link.word.startswith("address 127.")
    assert listener.title == "Listener emojivoto HTTP :8080" and listener.link.word == "Accepted"
    assert route.title == "HTTPRoute emojivoto/emojivoto" and route.link.word == "Accepted"
    assert route.detail == ["rule 1: PathPrefix / → web-svc:80"]
    assert backend.title == "Service emojivoto/web-svc" and backend.link.word == "ResolvedRefs"
    assert app.word == "1/1 ready" and app.title == "Pods emojivoto app=web-svc"
    assert all(n.explanation is None for n in path)


def test_g10_route_not_allowed_by_listener(mistake):
    gw = asset("gateway.yaml")
    gw["spec"]["listeners"][0].pop("allowedRoutes")
    mistake.apply(gw)
    mistake.wait("--for=jsonpath={.status.parents[0].conditions[0].reason}=NotAllowedByListeners",
                 f"{RT}/emojivoto", "-n", "emojivoto")
    tmap = traffic_map(mistake.engine)
    route = _by_kind(tmap, "route")
    assert (route.link.state, route.link.word) == ("broken", "NotAllowedByListeners")
    assert [n.kind for n in tmap.problems()] == ["route"]  # the gateway and its listener are fine
    expl = route.explanation
    assert expl["rule"] == "route-not-allowed-same-namespace"
    assert "istio-ingress" in expl["title"] and "/spec/listeners/0/allowedRoutes" in " ".join(expl["fix_command"])


def test_r04_backend_not_found(mistake):
    rt = asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    mistake.apply(rt)
    mistake.wait("--for=jsonpath={.status.parents[0].conditions[1].reason}=BackendNotFound",
                 f"{RT}/emojivoto", "-n", "emojivoto")
    tmap = traffic_map(mistake.engine)
    backend = _by_kind(tmap, "backend")
    assert backend.title == "Service emojivoto/web" and backend.state == "broken"
    assert (backend.link.state, backend.link.word) == ("broken", "BackendNotFound")
    assert backend.children == []  # nothing behind a Service that does not exist
    assert _by_kind(tmap, "route").link.state == "ok"  # attached; only its reference is broken
    assert backend.explanation["rule"] == "route-backend-not-found"
    assert "web-svc" in backend.explanation["why"] + backend.explanation["fix"]


def test_r01_route_attached_to_no_parent(mistake):
    rt = asset("httproute.yaml")
    rt["spec"]["parentRefs"] = [{"name": "emojivoto"}]
    mistake.apply(rt)
    mistake.wait("--for=jsonpath={.status.listeners[0].attachedRoutes}=0", f"{GW}/emojivoto", "-n", "istio-ingress")
    tmap = traffic_map(mistake.engine)
    assert [n.id for n in tmap.unattached] == ["unattached/route/emojivoto/emojivoto"]
    orphan = tmap.unattached[0]
    assert orphan.link.word == "no parent" and orphan.state == "broken"
    assert orphan.explanation["rule"] == "route-parents-namespace-omitted"
    assert "/spec/parentRefs/0/namespace" in " ".join(orphan.explanation["fix_command"])
    listener = _by_kind(tmap, "listener")
    assert listener.children == [] and listener.state == "warn" and "404" in listener.word


def test_g05_no_load_balancer_address_pending(mistake):
    mistake.faults.enable("no-lb")
    try:
        mistake.kubectl("delete", "svc", "emojivoto-istio", "-n", "istio-ingress")
        mistake.wait(f"{GW}/emojivoto", "-n", "istio-ingress",
                     "--for=jsonpath={.status.conditions[?(@.type==\"Programmed\")].reason}=AddressNotAssigned")
        tmap = traffic_map(mistake.engine)
        gw = _by_kind(tmap, "gateway")
        assert (gw.link.state, gw.link.word) == ("broken", "address pending")
        assert gw.word == "AddressNotAssigned"
        assert _by_kind(tmap, "service").word == "EXTERNAL-IP pending"
        assert gw.explanation["rule"] == "istio-lb-pending"
        assert gw.explanation["fix_command"] == ["kubectl", "port-forward", "-n", "istio-ingress",
                                                 "svc/emojivoto-istio", "8080:8080"]
    finally:
        mistake.faults.disable("no-lb")
        mistake.kubectl("delete", "svc", "emojivoto-istio", "-n", "istio-ingress")


def test_no_ready_pods_behind_the_backend(mistake):
    mistake.faults.enable("image-pull", images=["emojivoto-web"])
    try:
        # deleted pods are Terminating for a moment (as on a real cluster): wait until they are gone, so
        # the wait below sees only their replacements
        mistake.kubectl("delete", "pod", "-l", "app=web-svc", "-n", "emojivoto")
        mistake.wait("pod", "-l", "app=web-svc", "-n", "emojivoto",
                     "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=ImagePullBackOff")
        tmap = traffic_map(mistake.engine)
        app = _by_kind(tmap, "pods", 1)
        assert app.state == "broken" and app.word.startswith("0/") and "ImagePullBackOff" in app.word
        assert [n.id for n in tmap.problems()] == [app.id]
        assert app.explanation["rule"].startswith("pod-image-pull")
        assert "docker.l5d.io/buoyantio/emojivoto-web:v11" in " ".join(app.explanation["observed"]) + \
            app.explanation["why"] + app.explanation["fix"]
    finally:
        mistake.faults.disable("image-pull")
        mistake.kubectl("delete", "pod", "-l", "app=web-svc", "-n", "emojivoto", "--wait=false")
        mistake.wait("--for=condition=Available", "deployment/web", "-n", "emojivoto")
        mistake.kubectl("rollout", "status", "deployment/web", "-n", "emojivoto", "--timeout=30s")


def test_follow_redraws_when_the_route_goes(mistake):
    maps: queue.Queue = queue.Queue()
    cancel = threading.Event()
    worker = threading.Thread(target=follow, args=(mistake.engine.client, maps.put, cancel), daemon=True)
    worker.start()
    try:
        first = maps.get(timeout=30)
        assert first.state == "ok"
        mistake.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
        while True:  # each map differs from the one before; the route's removal must show up
            later = maps.get(timeout=30)
            listener = [n for n in later.nodes() if n.kind == "listener"][0]
            if not listener.children:
                break
        assert listener.state == "warn"
        assert listener.explanation["rule"] == "listener-no-routes-none-applied"
    finally:
        cancel.set()
        worker.join(timeout=30)
    assert not worker.is_alive()


def test_crashing_gateway_proxy_is_explained_as_the_proxy(blog):
    """The gateway's own pods crash: the map speaks of the proxy, not of Emojivoto's variables."""
    blog.faults.enable("crashloop", selector="gateway.networking.k8s.io/gateway-name=emojivoto")
    try:
        blog.wait("pod", "-l", "gateway.networking.k8s.io/gateway-name=emojivoto", "-n", "istio-ingress",
                  "--for=jsonpath={.status.containerStatuses[0].state.waiting.reason}=CrashLoopBackOff")
        tmap = traffic_map(blog.engine)
        broken = [n for n in tmap.problems() if (n.explanation or {}).get("rule", "").startswith("pod-crashloop")]
        assert broken, [(n.id, (n.explanation or {}).get("rule")) for n in tmap.problems()]
        expl = broken[0].explanation
        assert expl["rule"] == "pod-crashloop-gateway-proxy", expl
        text = " ".join([expl["title"], expl["why"], expl["fix"]])
        assert "proxy" in text and "WEB_PORT" not in text and "Emojivoto" not in text
        assert expl["fix_command"][:2] == ["kubectl", "logs"] and "--previous" in expl["fix_command"]
    finally:
        blog.faults.disable("crashloop")
        blog.kubectl("delete", "pod", "-l", "gateway.networking.k8s.io/gateway-name=emojivoto", "-n", "istio-ingress")
        blog.wait("--for=condition=programmed", f"{GW}/emojivoto", "-n", "istio-ingress")
