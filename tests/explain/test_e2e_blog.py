"""End to end on the sandbox: the blog set up by the real lessons, then a learner's mistake made
with real kubectl, then `explain` must name the cause and the fix (failure-catalog scenarios).

One cluster serves the module; every test undoes its mistake by re-applying the blog's objects.
"""

from __future__ import annotations

import pytest
import yaml

from sandboxlab import text_of
from tutorial.engine.checks import CheckContext, run_check
from tutorial.engine.evidence import gather_evidence
from tutorial.engine.explain import explain_evidence
from tutorial.paths import assets_dir

GW, RT = "gateway.networking.k8s.io", "httproute"


def _asset(name: str) -> dict:
    return yaml.safe_load((assets_dir() / "gateway-api" / name).read_text())


def _yaml(obj: dict) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


STRAYS = f"""\
apiVersion: {GW}/v1
kind: Gateway
metadata: {{name: emojivoto, namespace: default}}
---
apiVersion: {GW}/v1
kind: HTTPRoute
metadata: {{name: emojivoto, namespace: istio-ingress}}
"""


@pytest.fixture
def mistake(blog):
    """The blog as the lessons leave it, before and after each test (three kubectl calls)."""
    yield blog
    blog.kubectl("delete", "-f", "-", "--ignore-not-found", "--wait=false", input=STRAYS)
    blog.apply(_yaml(_asset("gateway.yaml")) + "---\n" + _yaml(_asset("httproute.yaml")))
    blog.wait("--for=condition=programmed", f"gateways.{GW}/emojivoto", "-n", "istio-ingress")


def _gateway(**changes) -> dict:
    gw = _asset("gateway.yaml")
    for key, value in changes.items():
        if value is None:
            gw["spec"]["listeners"][0].pop(key, None)
        else:
            gw["spec"][key] = value
    return gw


def _route(**changes) -> dict:
    rt = _asset("httproute.yaml")
    rt["spec"].update(changes)
    return rt


def _replace(lab, kind: str, ns: str, obj: dict) -> None:
    """Re-create (a changed gatewayClassName must not inherit the old class's status)."""
    lab.kubectl("delete", kind, obj["metadata"]["name"], "-n", ns, "--ignore-not-found")
    lab.apply(_yaml(obj))


def _apply(lab, obj: dict) -> None:
    lab.apply(_yaml(obj))


def _one(views, check_id: str):
    found = [v for v in views if v.check_id == check_id]
    assert found, f"no explanation for {check_id}: {[v.check_id for v in views]}"
    return found[0]


def _assert_says(view, rule: str, *words: str) -> None:
    text = text_of(view)
    assert view.rule_id == rule, f"expected {rule}, got {view.rule_id}: {view.title}\n{view.observed}"
    missing = [w for w in words if w not in text]
    assert not missing, f"{rule}: missing {missing} in:\n{text}"


def _wait_route(lab, ns: str, jsonpath: str) -> None:
    lab.wait(f"--for=jsonpath={jsonpath}", f"{RT}/emojivoto", "-n", ns)


def test_blog_passes_and_explain_has_nothing_to_say(blog):
    assert blog.explain("reach-the-app") == []
    assert blog.explain("gateway") == []
    assert blog.explain("httproute") == []


def test_g10_allowed_routes_omitted(mistake):
    _apply(mistake, _gateway_without_allowed_routes())
    _wait_route(mistake, "emojivoto", "{.status.parents[0].conditions[0].reason}=NotAllowedByListeners")
    view = _one(mistake.explain("httproute"), "route-accepted")
    _assert_says(view, "route-not-allowed-same-namespace", "istio-ingress", "from: Same",
                 "kubernetes.io/metadata.name", "/spec/listeners/0/allowedRoutes")
    # gather_evidence without the step's parameters rebuilds them from what the check recorded
    result = next(r for r in mistake.engine.check_step(mistake.step("httproute"), timeout=0.5, record=False)
                  if r.check_id == "route-accepted")
    assert explain_evidence(gather_evidence(mistake.engine, result)).rule_id == "route-not-allowed-same-namespace"
    http = _one(mistake.explain("reach-the-app"), "page") if _has_http(mistake) else None
    if http is not None:
        _assert_says(http, "route-not-allowed-same-namespace", "404")


def _gateway_without_allowed_routes() -> dict:
    gw = _asset("gateway.yaml")
    gw["spec"]["listeners"][0].pop("allowedRoutes", None)
    return gw


def _has_http(lab) -> bool:
    return any(c.kind == "http_get" for c in lab.step("reach-the-app").checks)


def test_selector_names_another_namespace(mistake):
    gw = _asset("gateway.yaml")
    gw["spec"]["listeners"][0]["allowedRoutes"]["namespaces"]["selector"]["matchLabels"] = {
        "kubernetes.io/metadata.name": "emojivot"}
    _apply(mistake, gw)
    _wait_route(mistake, "emojivoto", "{.status.parents[0].conditions[0].reason}=NotAllowedByListeners")
    view = _one(mistake.explain("httproute"), "route-accepted")
    _assert_says(view, "route-not-allowed-selector-name", '"emojivot"', "kubernetes.io/metadata.name: emojivoto")


def test_r01_parentref_namespace_missing(mistake):
    rt = _route(parentRefs=[{"name": "emojivoto"}])
    _apply(mistake, rt)
    views = mistake.explain("httproute", timeout=1)
    _assert_says(_one(views, "route-accepted"), "route-parents-namespace-omitted", "namespace: istio-ingress",
                 "/spec/parentRefs/0/namespace")


def test_r03_parentref_port_mismatch(mistake):
    _apply(mistake, _route(parentRefs=[{"name": "emojivoto", "namespace": "istio-ingress",
                                                           "port": 80}]))
    _wait_route(mistake, "emojivoto", "{.status.parents[0].conditions[0].reason}=NoMatchingParent")
    _assert_says(_one(mistake.explain("httproute"), "route-accepted"), "route-no-matching-parent-port",
                 "port 80", "8080", "Remove `port`")


def test_r04_backend_not_found_and_http_500(mistake):
    rt = _route()
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    _apply(mistake, rt)
    _wait_route(mistake, "emojivoto", "{.status.parents[0].conditions[1].reason}=BackendNotFound")
    _assert_says(_one(mistake.explain("httproute"), "route-accepted"), "route-backend-not-found", "web-svc",
                 "`web`", "500")
    if _has_http(mistake):
        _assert_says(_one(mistake.explain("reach-the-app"), "page"), "route-backend-not-found",
                     "HTTP 500")


def test_g12_gateway_in_wrong_namespace(mistake):
    mistake.kubectl("delete", f"gateways.{GW}", "emojivoto", "-n", "istio-ingress")
    gw = _asset("gateway.yaml")
    del gw["metadata"]["namespace"]
    mistake.kubectl("apply", "-n", "default", "-f", "-", input=_yaml(gw))
    views = mistake.explain("gateway")
    _assert_says(_one(views, "gateway-programmed"), "gateway-elsewhere", "default", "namespace: istio-ingress")
    route = _one(mistake.explain("httproute", timeout=1), "route-accepted")
    _assert_says(route, "route-parents-gateway-elsewhere", "default", "namespace: istio-ingress")


def test_g03_gateway_class_typo(mistake):
    _replace(mistake, f"gateways.{GW}", "istio-ingress", _gateway(gatewayClassName="istio-gateway"))
    view = _one(mistake.explain("gateway"), "gateway-accepted")
    _assert_says(view, "istio-gateway-class-missing", "istio-gateway", "Waiting for controller",
                 "gatewayClassName: istio")


def test_g04_istio_remote_class(mistake):
    _replace(mistake, f"gateways.{GW}", "istio-ingress", _gateway(gatewayClassName="istio-remote"))
    mistake.wait("--for=condition=programmed", f"gateways.{GW}/emojivoto", "-n", "istio-ingress")
    view = _one(mistake.explain("gateway"), "gateway-programmed")
    _assert_says(view, "istio-remote-class", "istio-remote", "gatewayClassName")


def test_r09_hostnames_give_404(mistake):
    if not _has_http(mistake):
        pytest.skip("the reach-the-app step has no http_get check")
    _apply(mistake, _route(hostnames=["emojivoto.example.com"]))
    _wait_route(mistake, "emojivoto", "{.status.parents[0].conditions[0].reason}=Accepted")
    view = _one(mistake.explain("reach-the-app"), "page")
    _assert_says(view, "http-404-hostnames", "emojivoto.example.com", "Host")


def test_a02_no_route_404(mistake):
    if not _has_http(mistake):
        pytest.skip("the reach-the-app step has no http_get check")
    mistake.kubectl("delete", RT, "emojivoto", "-n", "emojivoto")
    mistake.wait("--for=jsonpath={.status.listeners[0].attachedRoutes}=0", f"gateways.{GW}/emojivoto",
                 "-n", "istio-ingress")
    view = _one(mistake.explain("reach-the-app"), "page")
    assert view.rule_id in ("listener-no-routes-none-applied", "http-404-nothing-attached"), view.rule_id
    assert "404" in text_of(view) and "attached" in text_of(view)


def test_r08_route_next_to_gateway_without_grant(mistake):
    rt = _route()
    rt["metadata"]["namespace"] = "istio-ingress"
    rt["spec"]["rules"][0]["backendRefs"][0]["namespace"] = "emojivoto"
    mistake.apply(_yaml(rt))
    _wait_route(mistake, "istio-ingress", "{.status.parents[0].conditions[0].reason}")
    step = mistake.step("httproute")
    check = next(c for c in step.checks if c.kind == "route_accepted")
    params = {**check.params, "namespace": "istio-ingress"}
    result = run_check(CheckContext(mistake.engine.client), "route_accepted", params, timeout=2,
                       check_id=check.id, title=check.title)
    view = explain_evidence(gather_evidence(mistake.engine, result, params))
    assert view.rule_id in ("route-ref-not-permitted", "route-not-allowed-selector-name",
                            "route-not-allowed-selector-label", "route-not-allowed")
    assert "istio-ingress" in text_of(view)


def test_e04_doughnut_vote_is_intentional(mistake):
    address = mistake.cluster.settings.lb_address
    params = {"url": f"http://{address}:8080/api/vote?choice=:doughnut:", "status": 200}
    result = run_check(CheckContext(mistake.engine.client), "http_get", params, timeout=1, check_id="vote")
    assert result.evidence["http_status"] == 500
    _assert_says(explain_evidence(gather_evidence(mistake.engine, result, params)), "http-doughnut-500",
                 "doughnut", "another emoji")


def test_a01_wrong_port(mistake):
    address = mistake.cluster.settings.lb_address
    params = {"url": f"http://{address}:80/", "status": 200,
              "through_gateway": {"name": "emojivoto", "namespace": "istio-ingress"}}
    result = run_check(CheckContext(mistake.engine.client), "http_get", {"url": params["url"]}, timeout=0.5,
                       check_id="browse")
    assert result.evidence["http_status"] is None
    ev = gather_evidence(mistake.engine, result, params)
    _assert_says(explain_evidence(ev), "http-wrong-port", "port 80", f"http://{address}:8080/")


def test_g01_gatewayclass_apply_warning_is_harmless(blog):
    from tutorial.engine.evidence import command_evidence
    from tutorial.engine.runner import CommandSpec, run_command

    gc = (assets_dir() / "gateway-api" / "gatewayclass.yaml")
    blog.kubectl("delete", "gatewayclass", "istio", "--ignore-not-found")
    blog.wait("--for=condition=Accepted", "gatewayclass/istio")  # istiod re-creates its class
    spec = CommandSpec(argv=["kubectl", "apply", "-f", str(gc)], timeout=30)
    result = run_command(spec, blog.engine.target.run_target())
    assert result.ok, result.stderr
    view = explain_evidence(command_evidence(result))
    _assert_says(view, "cli-last-applied-warning", "istiod", "Nothing to do")
