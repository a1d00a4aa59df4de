"""Failure catalog C03: old Gateway API CRDs that stored v1alpha2 block the v1.3.0 upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from cluster_fixtures import sandbox  # noqa: F401  (fixture)
from tutorial.sandbox.bundles import gateway_api_bundle

OLD_GRPCROUTES = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "grpcroutes.gateway.networking.k8s.io",
                 "annotations": {"gateway.networking.k8s.io/bundle-version": "v1.0.0"}},
    "spec": {"group": "gateway.networking.k8s.io", "scope": "Namespaced",
             "names": {"plural": "grpcroutes", "singular": "grpcroute", "kind": "GRPCRoute", "listKind": "GRPCRouteList"},
             "versions": [{"name": "v1alpha2", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def _assert_explained(sandbox) -> None:
    """The same failure through the engine's runner: the explanation names the cause and the fix."""
    from tutorial.engine.evidence import command_evidence
    from tutorial.engine.explain import explain_evidence
    from tutorial.engine.runner import CommandSpec, RunTarget, run_command

    target = RunTarget(kubeconfig=str(sandbox.kubeconfig), env={"HOME": str(sandbox.home)})
    result = run_command(CommandSpec(argv=["kubectl", "apply", "-f", str(gateway_api_bundle())]), target)
    view = explain_evidence(command_evidence(result))
    text = " ".join([view.title, view.why, view.fix, " ".join(view.observed)])
    assert "storedVersions" in text and "v1alpha2" in text, text
    assert "grpcroutes.gateway.networking.k8s.io" in text, text


def _v1_1(crd: dict) -> dict:
    """The same CRD as Gateway API v1.1 shipped it: v1 is stored, v1alpha2 still served."""
    schema = crd["spec"]["versions"][0]["schema"]
    newer = json.loads(json.dumps(crd))
    newer["spec"]["versions"] = [{"name": "v1", "served": True, "storage": True, "schema": schema},
                                 {"name": "v1alpha2", "served": True, "storage": False, "schema": schema}]
    return newer


def test_upgrade_over_v1alpha2_stored_versions_fails_like_the_catalog_says(sandbox, tmp_path: Path):  # noqa: F811
    old = tmp_path / "old.json"
    old.write_text(json.dumps(OLD_GRPCROUTES))  # v1.0: objects were stored as v1alpha2
    sandbox.kubectl("apply", "-f", str(old))
    old.write_text(json.dumps(_v1_1(OLD_GRPCROUTES)))  # then v1.1: storedVersions [v1alpha2, v1]
    sandbox.kubectl("apply", "-f", str(old))
    sandbox.wait("--for=condition=Established", "crd/grpcroutes.gateway.networking.k8s.io")

    upgrade = sandbox.kubectl("apply", "-f", str(gateway_api_bundle()), check=False)
    assert upgrade.returncode != 0
    assert ('The CustomResourceDefinition "grpcroutes.gateway.networking.k8s.io" is invalid: '
            'status.storedVersions[0]: Invalid value: "v1alpha2": must appear in spec.versions') in upgrade.stderr
    assert "httproutes.gateway.networking.k8s.io" in upgrade.stdout  # the other CRDs went in
    _assert_explained(sandbox)

    # The catalog's fix: prune storedVersions (after migrating objects), then re-apply.
    sandbox.kubectl("patch", "customresourcedefinitions", "grpcroutes.gateway.networking.k8s.io",
                    "--subresource=status", "--type=merge", "-p", '{"status":{"storedVersions":["v1"]}}')
    assert sandbox.kubectl("apply", "-f", str(gateway_api_bundle()), check=False).returncode == 0
