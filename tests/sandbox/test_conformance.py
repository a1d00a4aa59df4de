"""Gateway API v1.3.0 conformance cases (those Istio 1.27's report claims), table-driven, on the sandbox.

One simulated cluster for the module: simulated istioctl installs Istio, the v1.3.0 CRDs and the
adapted base manifests (echo backends, the shared Gateways, a certificate Secret made here) are
applied once; each case applies its adapted manifests, waits for the statuses the upstream test
waits for, sends every ported request to the Gateway's own loopback address, judges the answers
as the upstream suite does (conformance/expect.py) and deletes its manifests again.
The count (cases ported, cases passing) is printed at the end of the run (conftest.py).
"""

from __future__ import annotations

import json
import ssl
import sys
import time
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent / "conformance"
sys.path.insert(0, str(HERE))

import expect  # noqa: E402
import istio_fixtures as fx  # noqa: E402

CASES = yaml.safe_load((HERE / "cases.yaml").read_text())
INFRA = CASES["infra"]
HTTPROUTES = ("gateway.networking.k8s.io", "httproutes")
GATEWAYS = ("gateway.networking.k8s.io", "gateways")
ISTIO = "istio.io/gateway-controller"
TLS_HOSTS = ["example.org", "second-example.org", "unknown-example.org", "*.example.org"]


def _docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((HERE / "manifests" / name).read_text()) if d]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    import os

    if os.geteuid() != 0 and _unprivileged_port_start() > 80:
        pytest.skip("the conformance Gateways listen on port 80/443; this user may not bind them")
    tmp = tmp_path_factory.mktemp("conformance")
    blog = fx.start_blog(tmp)
    try:
        blog.tool("istioctl install --set profile=minimal -y")
        blog.install_crds()
        cert_pem, key_pem, ca = _certificate(tmp)
        blog.kubectl("apply", "-f", str(HERE / "manifests" / "base.yaml"))
        # the Secrets the upstream suite creates before its tests
        for ns, name in ((INFRA, "tls-validity-checks-certificate"), ("gateway-conformance-web-backend", "certificate")):
            blog.kubectl("create", "secret", "tls", name, "-n", ns, f"--cert={cert_pem}", f"--key={key_pem}")
        for ns in (INFRA, "gateway-conformance-app-backend", "gateway-conformance-web-backend"):
            blog.wait("--for=condition=Available", "deploy", "--all", "-n", ns)
        blog.ca = ca
        yield blog
    finally:
        blog.stop()


def _unprivileged_port_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


def _certificate(tmp: Path):
    """A CA and a server certificate for the TLS hosts, made here (cryptography, else skip)."""
    certs = pytest.importorskip("conformance_certs", reason="needs the cryptography package")
    return certs.make(tmp, TLS_HOSTS)


def _wait_statuses(lab, case: dict, timeout: float = 30.0) -> None:
    docs = [d for m in case["manifests"] for d in _docs(m)]
    routes = [d for d in docs if d["kind"] == "HTTPRoute"]
    gateways = {(d["metadata"].get("namespace", INFRA), d["metadata"]["name"]) for d in docs if d["kind"] == "Gateway"}
    gateways |= {(INFRA, t["gateway"]) for t in case["targets"]}
    deadline, problem = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        problem = (_status_problem(lab.sb.store, routes, gateways, case.get("conditions") or {})
                   or _listener_problem(lab.sb.store, case.get("listeners") or {})
                   or _attached_problem(lab.sb.store, case.get("zero_routes") or [])
                   or _attached_counts(lab.sb.store, case.get("attached") or {}))
        if problem is None:
            return
        time.sleep(0.1)
    pytest.fail(f"{case['name']}: {problem}")


def _status_problem(store, routes, gateways, overrides) -> str | None:
    for ns, name in sorted(gateways):
        gw = store.get(GATEWAYS, ns, name) or {}
        if fx.condition_or_none(gw.get("status") or {}, "Programmed") != "True":
            return f"Gateway {ns}/{name} is not Programmed: {(gw.get('status') or {}).get('conditions')}"
    for doc in routes:
        ns, name = doc["metadata"].get("namespace", INFRA), doc["metadata"]["name"]
        route = store.get(HTTPROUTES, ns, name) or {}
        want = {"Accepted": ["True", "Accepted"], "ResolvedRefs": ["True", "ResolvedRefs"], **overrides.get(name, {})}
        parents = [p for p in (route.get("status") or {}).get("parents") or [] if p.get("controllerName") == ISTIO]
        if not parents:
            return f"HTTPRoute {ns}/{name} has no status from Istio yet"
        for parent in parents:
            got = {c["type"]: [c["status"], c["reason"]] for c in parent.get("conditions") or []}
            for type_, expected in want.items():
                if not _same(got.get(type_), expected):
                    return f"HTTPRoute {ns}/{name} {type_} is {got.get(type_)}, expected {expected}"
    return None


def _listener_problem(store, wanted: dict) -> str | None:
    """Listener conditions as the upstream test requires them (GatewayStatusMustHaveListeners)."""
    for gateway, listeners in wanted.items():
        status = (store.get(GATEWAYS, INFRA, gateway) or {}).get("status") or {}
        got = {lst["name"]: {c["type"]: [c["status"], c["reason"]] for c in lst.get("conditions") or []}
               for lst in status.get("listeners") or []}
        for listener, conditions in listeners.items():
            for type_, expected in conditions.items():
                if not _same((got.get(listener) or {}).get(type_), expected):
                    return f"Gateway {gateway} listener {listener} {type_} is {(got.get(listener) or {}).get(type_)}, expected {expected}"
    return None


def _same(got: list | None, expected: list) -> bool:
    """[status, reason] equal; an expected reason of "" accepts any (as the Go tests' empty Reason)."""
    return got is not None and got[0] == expected[0] and (not expected[1] or got[1] == expected[1])


def _attached_counts(store, wanted: dict) -> str | None:
    """attachedRoutes per listener as the upstream test requires."""
    for gateway, listeners in wanted.items():
        status = (store.get(GATEWAYS, INFRA, gateway) or {}).get("status") or {}
        got = {lst["name"]: lst.get("attachedRoutes") for lst in status.get("listeners") or []}
        if any(got.get(name) != count for name, count in listeners.items()):
            return f"Gateway {gateway} attachedRoutes {got}, expected {listeners}"
    return None


def _attached_problem(store, gateways: list[str]) -> str | None:
    """GatewayMustHaveZeroRoutes: no listener of these Gateways counts an attached route."""
    for gateway in gateways:
        status = (store.get(GATEWAYS, INFRA, gateway) or {}).get("status") or {}
        counts = {lst["name"]: lst.get("attachedRoutes") for lst in status.get("listeners") or []}
        if not counts or any(counts.values()):
            return f"Gateway {gateway} attachedRoutes {counts}, expected all 0"
    return None


def _address(lab, gateway: str) -> str:
    gw = lab.sb.store.get(GATEWAYS, INFRA, gateway)
    return gw["status"]["addresses"][0]["value"]


def _literals(case: dict) -> list[dict]:
    name = case.get("expectations") or case["name"]
    return yaml.safe_load((HERE / "expectations" / f"{name}.yaml").read_text()) or []


def _runs(case: dict) -> list[tuple[dict, dict, int]]:
    """(target, literal, literal index) in the order the upstream test sends them."""
    literals, out = _literals(case), []
    for target in case["targets"]:
        start = target.get("start", 0)
        end = start + target["take"] if "take" in target else len(literals)
        out += [(target, literals[i], i) for i in range(start, end)]
    return out


def _port(target: dict, literal: dict) -> int:
    host = (literal.get("Request") or {}).get("Host") or ""
    if target.get("port_from_host") and ":" in host:
        return int(host.rsplit(":", 1)[1])
    return int(target.get("port", 80))


def _one(lab, target: dict, literal: dict) -> str | None:
    """Send one literal's request until it is judged right (eventual consistency) or 5 s pass."""
    scheme = target.get("scheme", "http")
    address, port = _address(lab, target["gateway"]), _port(target, literal)
    context = ssl.create_default_context(cafile=str(lab.ca)) if scheme == "https" else None
    deadline, why = time.monotonic() + 5, None
    while time.monotonic() < deadline:
        try:
            status, headers, body = expect.send(literal, address, port, scheme, context)
            why = expect.judge(literal, status, headers, body, scheme)
        except OSError as exc:
            why = f"{type(exc).__name__}: {exc}"
        if why is None:
            return None
        time.sleep(0.2)
    return f"{(literal.get('Request') or {})} -> {why}"


def _latest_problem(obj: dict) -> str | None:
    """*MustHaveLatestConditions: every condition (a route's: of every parent) has observedGeneration."""
    generation = obj["metadata"].get("generation")
    status = obj.get("status") or {}
    conditions = list(status.get("conditions") or []) + [c for p in status.get("parents") or []
                                                         for c in p.get("conditions") or []]
    stale = [c["type"] for c in conditions if c.get("observedGeneration") != generation]
    if not conditions or stale:
        return f"{obj['kind']} {obj['metadata']['name']} generation {generation}: stale conditions {stale or 'none'}"
    return None


def _check_bump(lab, spec: dict) -> None:
    ns = ["-n", spec["namespace"]] if spec.get("namespace") else []

    def get() -> dict:
        return json.loads(lab.kubectl("get", spec["kind"], spec["name"], *ns, "-o", "json").stdout)

    def settle() -> dict:
        deadline = time.monotonic() + 30
        while True:
            obj = get()
            problem = _latest_problem(obj)
            if problem is None:
                return obj
            if time.monotonic() > deadline:
                pytest.fail(problem)
            time.sleep(0.1)

    before = settle()
    lab.kubectl("patch", spec["kind"], spec["name"], *ns, "--type=json", "-p", json.dumps(spec["patch"]))
    after = settle()
    assert after["metadata"]["generation"] != before["metadata"]["generation"]
    then = spec.get("then") or {}
    if then:
        _wait_for(lambda: _then_problem(lab.sb.store, spec["name"], then), spec["name"])


def _then_problem(store, gateway: str, then: dict) -> str | None:
    """After a Gateway change: exactly these listeners, with these conditions and route counts."""
    status = (store.get(GATEWAYS, INFRA, gateway) or {}).get("status") or {}
    names = [lst["name"] for lst in status.get("listeners") or []]
    if sorted(names) != sorted(then.get("listener_names") or names):
        return f"Gateway {gateway} listeners {names}, expected {then['listener_names']}"
    return (_listener_problem(store, {gateway: then.get("listeners") or {}})
            or _attached_counts(store, {gateway: then.get("attached") or {}}))


def _wait_for(problem, what: str, timeout: float = 30.0) -> None:
    deadline, why = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        why = problem()
        if why is None:
            return
        time.sleep(0.1)
    pytest.fail(f"{what}: {why}")


def _fill_slices(lab, spec: dict) -> None:
    """As the Go test's setupEndpointSlices: the app's pods as ready endpoints of hand-made slices."""
    pods = lab.sb.store.list(("", "pods"), INFRA, label_selector=f"app={spec['app']}")[0]
    endpoints = [{"addresses": [p["status"]["podIP"]],
                  "conditions": {"ready": True, "serving": True, "terminating": False},
                  "nodeName": p["spec"].get("nodeName", ""),
                  "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": INFRA,
                                "uid": p["metadata"]["uid"]}} for p in pods]
    for name in spec["slices"]:
        lab.kubectl("patch", "endpointslice", name, "-n", INFRA, "--type=merge", "-p",
                    json.dumps({"endpoints": endpoints}))


def _infrastructure_problem(lab, spec: dict) -> str | None:
    """Each generated ServiceAccount, Pod and Service has the infrastructure labels and annotations."""
    selector = f"gateway.networking.k8s.io/gateway-name={spec['gateway']}"
    for kind in ("serviceaccounts", "pods", "services"):
        items = json.loads(lab.kubectl("get", kind, "-n", INFRA, "-l", selector, "-o", "json").stdout)["items"]
        if not items:
            return f"no {kind} labelled {selector} yet"
        m = items[0]["metadata"]
        if not (spec["labels"].items() <= (m.get("labels") or {}).items()
                and spec["annotations"].items() <= (m.get("annotations") or {}).items()):
            return f"{kind} {m['name']}: labels {m.get('labels')}, annotations {m.get('annotations')}"
    return None


def _mirror_count(lab, ref: dict, path: str) -> int:
    logs = lab.kubectl("logs", "-n", ref["Namespace"], "-l", f"app={ref['Name']}", "--tail=-1").stdout
    return logs.count(f"Echoing back request made to {path} to client")


def _check_mirror_share(lab, target: dict, literal: dict, spec: dict) -> None:
    """Each mirror got Percent of the requests (relative tolerance), as upstream counts in its logs."""
    address, path = _address(lab, target["gateway"]), literal["Request"]["Path"]
    for mirror in literal.get("MirroredTo") or []:
        want, got = spec["requests"] * mirror["Percent"] / 100.0, None
        for _ in range(spec["tries"]):
            before = _mirror_count(lab, mirror["BackendRef"], path)
            for _ in range(spec["requests"]):
                status, headers, body = expect.send(literal, address, 80)
                assert expect.judge(literal, status, headers, body, "http") is None
            got = _mirror_count(lab, mirror["BackendRef"], path) - before
            if want * (1 - spec["tolerance"]) <= got <= want * (1 + spec["tolerance"]):
                break
        else:
            pytest.fail(f"{path}: mirror {mirror['BackendRef']['Name']} got {got} copies, expected {want:.0f} "
                        f"within {spec['tolerance']:.0%}")


def _check_distribution(lab, target: dict, literal: dict, spec: dict) -> None:
    """Upstream's testDistribution: each backend's share of N requests within tolerance of its weight."""
    import json as _json

    address, shares = _address(lab, target["gateway"]), None
    for _ in range(spec["tries"]):
        seen = dict.fromkeys(spec["weights"], 0)
        for _ in range(spec["requests"]):
            status, headers, body = expect.send(literal, address, 80)
            assert expect.judge(literal, status, headers, body, "http") is None
            pod = _json.loads(body)["pod"]
            seen[next(b for b in seen if pod.startswith(b))] += 1
        shares = {b: n / spec["requests"] for b, n in seen.items()}
        if all(abs(shares[b] - w) <= spec["tolerance"] for b, w in spec["weights"].items()):
            return
    pytest.fail(f"weighted distribution {shares}, expected {spec['weights']} within {spec['tolerance']}")


def _mirrored(lab, literal: dict) -> str | None:
    """Each MirroredTo backend logged the request (echo-basic's line, read with kubectl logs)."""
    path = (literal.get("Request") or {}).get("Path")
    for mirror in literal.get("MirroredTo") or []:
        ref = mirror.get("BackendRef") or {}
        logs = lab.kubectl("logs", "-n", ref.get("Namespace"), "-l", f"app={ref.get('Name')}", "--tail=-1",
                           "--prefix").stdout
        if f"Echoing back request made to {path} to client" not in logs:
            return f"mirror {ref.get('Namespace')}/{ref.get('Name')} did not receive {path}"
    return None


@pytest.mark.parametrize("case", CASES["ported"], ids=[c["name"] for c in CASES["ported"]])
def test_case(lab, case):
    files = [str(HERE / "manifests" / m) for m in case["manifests"]]
    lab.kubectl("apply", *[a for f in files for a in ("-f", f)])
    try:
        if case.get("fill_slices"):
            _fill_slices(lab, case["fill_slices"])
        _wait_statuses(lab, case)
        runs = _runs(case)
        assert runs or case.get("listeners") or case.get("conditions") or case.get("attached") or case.get("bump") or case.get("bumps") \
            or case.get("infrastructure"), \
            f"{case['name']}: nothing ported to check"
        failures = []
        for target, lit, index in runs:
            if index in (case.get("before") or {}):
                lab.kubectl(*case["before"][index])
            why = _one(lab, target, lit) or (None if case.get("mirror_distribution") else _mirrored(lab, lit))
            if why:
                failures.append(why)
        assert not failures, f"{len(failures)} of {len(runs)} requests wrong:\n" + "\n".join(failures)
        if case.get("infrastructure"):
            _wait_for(lambda: _infrastructure_problem(lab, case["infrastructure"]), case["name"])
        for bump in ([case["bump"]] if case.get("bump") else []) + (case.get("bumps") or []):
            _check_bump(lab, bump)
        for target, lit, _ in runs if case.get("mirror_distribution") else []:
            _check_mirror_share(lab, target, lit, case["mirror_distribution"])
        if case.get("distribution"):
            _check_distribution(lab, case["targets"][0], runs[0][1], case["distribution"])
    finally:
        lab.kubectl("delete", "--wait=false", *[a for f in files for a in ("-f", f)], check=False)


def test_left_out_cases_say_why():
    """Every left-out case gives its reason."""
    for item in CASES.get("left_out") or []:
        assert item.get("name") and item.get("reason"), item
    print(json.dumps({"ported": len(CASES["ported"]), "left_out": len(CASES.get("left_out") or [])}))


def test_design_doc_lists_every_case():
    """docs/sandbox-design.md names every ported and left-out case (conformance/docs_tables.py rewrites them)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "sandbox-design.md").read_text()
    missing = [c["name"] for c in CASES["ported"] + CASES["left_out"] if f"| {c['name']} |" not in doc]
    assert not missing, f"docs/sandbox-design.md does not list: {missing}"
