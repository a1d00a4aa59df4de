"""A workshop's life on `sandbox serve --clusters 10` (a real subprocess) plus one dead context.

prepare to the HTTPRoute step -> status shows every cluster there -> reset --dry-run lists and
changes nothing -> reset empties every cluster, except what existed before the tutorial (lab10
had Istio and the Gateway API CRDs first) -> a second reset changes nothing and says so.
The tests run in file order and share the clusters.
"""

from __future__ import annotations

import json
import re

import pytest

from fleetlab import cli, helm_releases, install_istio_and_crds, journal, serve

LABS = [f"lab{i:02d}" for i in range(1, 11)]
PREINSTALLED = "lab10"
TARGET = "httproute/apply-route"
TUTORIAL_NS = {"emojivoto", "istio-system", "istio-ingress"}
EMPTY_NS = {"default", "kube-system", "kube-public", "kube-node-lease"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    mp = pytest.MonkeyPatch()
    mp.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp / "state"))
    lab = serve(tmp, 10)
    try:
        install_istio_and_crds(lab, PREINSTALLED)
        yield lab
    finally:
        lab.stop()
        mp.undo()


@pytest.fixture(scope="module")
def prepared(lab):
    """Helm path on lab01-03 (and the dead context), istioctl path on lab04-10 (fewer tool runs)."""
    kc = str(lab.kubeconfig)
    helm = cli("prepare", TARGET, "--kubeconfig", kc, "--match", "lab0[1-3]", "--context", "lab-down", "--yes",
               "--timeout", "240")
    istioctl = cli("prepare", TARGET, "--kubeconfig", kc, "--match", "lab0[4-9]", "--context", PREINSTALLED,
                   "--variant", "istio=istioctl", "--yes", "--timeout", "240")
    return helm, istioctl


def test_prepare_reaches_httproute_and_reports_the_dead_cluster(lab, prepared):
    (code, out), (code2, out2) = prepared
    assert code == 1, out  # one cluster failed: lab-down
    assert "lab-down" in out and "unreachable" in out and "connection refused" in out
    assert code2 == 0, out2
    assert out.count("at httproute/apply-route") == 3, out
    assert out2.count("at httproute/apply-route") == 7, out2
    for context in LABS:
        assert lab.names(context, "httproute", "emojivoto") == {"emojivoto"}


def test_status_shows_every_cluster_at_the_route(lab, prepared):
    code, out = cli("status", "--kubeconfig", str(lab.kubeconfig), "--all-contexts", "--json")
    doc = json.loads(out)
    assert code == 1  # lab-down does not answer
    by_name = {c["context"]: c for c in doc["clusters"]}
    assert by_name["lab-down"]["reachable"] is False and by_name["lab-down"]["error"]
    for context in LABS:
        assert by_name[context]["reachable"], by_name[context]
        states = {s["target"]: s["state"] for s in by_name[context]["steps"]}
        upto = doc["steps"][:doc["steps"].index(TARGET) + 1]
        assert all(states[t] in ("done", "n/a") for t in upto), states
        path = "istio/ingress" if context <= "lab03" else "istio/istioctl-install"
        assert states[path] == "done" and "n/a" in states.values()  # the other Istio path is n/a
        # The last step only observes: with the route in place the app answers, so it is done too.
        assert by_name[context]["at"] == "reach-the-app/browse", by_name[context]
    code, table = cli("status", "--kubeconfig", str(lab.kubeconfig), "--context", "lab01", "--context", "lab02")
    assert code == 0 and "✔ done" in table and "lab02" in table and TARGET in table


def test_journal_knows_what_lab10_had_before(lab, prepared):
    entries = journal(lab, PREINSTALLED)
    created = {(c["kind"], c["name"]) for e in entries.values() for c in e["created"]}
    kept = {(k["kind"], k["name"]) for e in entries.values() for k in e["kept"]}
    releases = {r["name"] for e in entries.values() for r in e["releases"]}
    assert ("CustomResourceDefinition", "gateways.gateway.networking.k8s.io") in kept
    assert ("Deployment", "istiod") in kept and not releases
    assert ("Namespace", "istio-ingress") in created and ("Namespace", "emojivoto") in created
    assert not any(kind in ("CustomResourceDefinition", "GatewayClass") for kind, _ in created)
    assert not any(name == "istio-system" for _, name in created)
    lab01 = journal(lab, "lab01")
    assert {r["name"] for e in lab01.values() for r in e["releases"]} == {"istio-base", "istiod", "istio-ingress"}


def test_dry_run_lists_exactly_and_changes_nothing(lab, prepared):
    before = {c: (lab.names(c, "ns"), helm_releases(lab, c), journal(lab, c)) for c in ("lab01", PREINSTALLED)}
    code, out = cli("reset", "--dry-run", "--kubeconfig", str(lab.kubeconfig), "--context", "lab01",
                    "--context", PREINSTALLED)
    assert code == 0, out
    assert "✘ delete  Namespace emojivoto and everything in it" in out
    assert "helm uninstall istiod -n istio-system" in out
    assert "gateways.gateway.networking.k8s.io" in out and "existed before" in out
    assert "dry run: nothing changed" in out
    assert "helm.sh/resource-policy" not in out  # the chart's keep policy does not keep what the tutorial made
    after = {c: (lab.names(c, "ns"), helm_releases(lab, c), journal(lab, c)) for c in ("lab01", PREINSTALLED)}
    assert after == before


def test_reset_empties_every_cluster_but_keeps_what_was_there(lab, prepared):
    code, out = cli("reset", "--kubeconfig", str(lab.kubeconfig), "--match", "lab[0-9]*", "--yes", "--parallel", "10")
    assert code == 0, out
    # lab01 was prepared with Helm: istio-base's CRDs carry helm.sh/resource-policy: keep, but the
    # tutorial created them, so they are deleted, not reported as kept
    assert re.search(r"lab01 .*deleted \d+, kept 0 ", out), out
    for context in LABS[:-1]:
        assert lab.names(context, "ns") == EMPTY_NS, context
        assert lab.names(context, "crd") == set(), context
        assert helm_releases(lab, context) == set(), context
        assert journal(lab, context) is None, context
    kept = lab.names(PREINSTALLED, "ns")
    assert "istio-system" in kept and not kept & {"emojivoto", "istio-ingress"}
    assert helm_releases(lab, PREINSTALLED) == {"istio-system/istio-base", "istio-system/istiod"}
    assert "gateways.gateway.networking.k8s.io" in lab.names(PREINSTALLED, "crd")
    assert lab.names(PREINSTALLED, "deploy", "istio-system") == {"istiod"}
    assert journal(lab, PREINSTALLED) is None


def test_second_reset_changes_nothing_and_says_so(lab, prepared):
    version = [lab.kubectl(c, "get", "ns", "-o", "jsonpath={.metadata.resourceVersion}").stdout for c in LABS]
    code, out = cli("reset", "--kubeconfig", str(lab.kubeconfig), "--match", "lab[0-9]*", "--yes")
    assert code == 0, out
    assert "Nothing to reset" in out
    again = [lab.kubectl(c, "get", "ns", "-o", "jsonpath={.metadata.resourceVersion}").stdout for c in LABS]
    assert again == version  # no write reached any cluster
