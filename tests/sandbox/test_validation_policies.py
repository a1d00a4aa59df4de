"""ValidatingAdmissionPolicy / Binding served and enforced with the CEL engine, through real kubectl 1.32.

Gateway API's own safe-upgrades policy (upstream manifest in data/) refuses an older bundle as a
v1.32 cluster does; a Deny and a Warn binding answer in the API server's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tutorial.sandbox.bundles import gateway_api_bundle
from tutorial.sandbox.bundles.gateway_api import crds

SAFE_UPGRADES = Path(__file__).parent / "data" / "gateway-api-safe-upgrades-vap.yaml"
POLICY = "ValidatingAdmissionPolicy 'safe-upgrades.gateway.networking.k8s.io' with binding " \
         "'safe-upgrades.gateway.networking.k8s.io' denied request: "
TOO_OLD = "Installing CRDs with version before v1.5.0 is prohibited by default. Uninstall ValidatingAdmissionPolicy " \
          "safe-upgrades.gateway.networking.k8s.io to install older versions."
EXPERIMENTAL = "Installing experimental CRDs on top of standard channel CRDs is prohibited by default. Uninstall " \
               "ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io to install experimental CRDs on " \
               "top of standard channel CRDs."
DEMO = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: max-replicas.example.com}}
spec:
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}}
  validations:
  - expression: "object.spec.replicas <= 5"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: max-replicas-binding.example.com}}
spec:
  policyName: max-replicas.example.com
  validationActions: [{action}]
  matchResources:
    namespaceSelector: {{matchLabels: {{policy: "on"}}}}
"""


def _gatewayclass_crd(version: str, channel: str = "standard") -> str:
    crd = next(c for c in crds() if c["metadata"]["name"].startswith("gatewayclasses."))
    crd["metadata"]["annotations"].update({"gateway.networking.k8s.io/bundle-version": version,
                                           "gateway.networking.k8s.io/channel": channel})
    return yaml.safe_dump(crd)


@pytest.fixture
def guarded(api):
    api.kubectl("apply", "-f", str(SAFE_UPGRADES))
    return api


def test_policy_and_binding_are_served(guarded):
    out = guarded.kubectl("get", "validatingadmissionpolicies,validatingadmissionpolicybindings").stdout
    assert "validatingadmissionpolicy.admissionregistration.k8s.io/safe-upgrades.gateway.networking.k8s.io" in out
    assert "validatingadmissionpolicybinding.admissionregistration.k8s.io/safe-upgrades.gateway.networking.k8s.io" \
        in out
    assert "Validations contain CEL expressions" in guarded.kubectl("explain", "validatingadmissionpolicy.spec."
                                                                    "validations").stdout


def test_safe_upgrades_refuses_the_v1_3_bundle(guarded):
    proc = guarded.kubectl("apply", "-f", str(gateway_api_bundle()), check=False)
    assert proc.returncode == 1
    for name in ("gatewayclasses", "gateways", "grpcroutes", "httproutes", "referencegrants"):
        assert (f'Error from server (Invalid): error when creating "{gateway_api_bundle()}": '
                f'customresourcedefinitions.apiextensions.k8s.io "{name}.gateway.networking.k8s.io" is forbidden: '
                f"{POLICY}{TOO_OLD}") in proc.stderr
    assert "gateway.networking.k8s.io" not in guarded.kubectl("get", "crd").stdout


def test_safe_upgrades_refuses_a_downgrade_and_experimental_over_standard(guarded):
    guarded.kubectl("apply", "-f", "-", input=_gatewayclass_crd("v1.6.0"))
    downgrade = guarded.kubectl("apply", "-f", "-", input=_gatewayclass_crd("v1.3.0"), check=False)
    assert f'"gatewayclasses.gateway.networking.k8s.io" is invalid: : {POLICY}{TOO_OLD}' in downgrade.stderr
    experimental = guarded.kubectl("apply", "-f", "-", input=_gatewayclass_crd("v1.6.0", "experimental"), check=False)
    assert f": {POLICY}{EXPERIMENTAL}" in experimental.stderr
    annotations = guarded.kubectl("get", "crd", "gatewayclasses.gateway.networking.k8s.io",
                                  "-o", "jsonpath={.metadata.annotations}").stdout
    assert '"gateway.networking.k8s.io/bundle-version":"v1.6.0"' in annotations  # nothing changed


def test_deny_binding_words_as_the_api_server(api):
    api.kubectl("apply", "-f", "-", input=DEMO.format(action="Deny"))
    api.kubectl("label", "ns", "default", "policy=on")
    denied = "ValidatingAdmissionPolicy 'max-replicas.example.com' with binding 'max-replicas-binding.example.com' " \
             "denied request: failed expression: object.spec.replicas <= 5"
    proc = api.kubectl("create", "deploy", "big", "--image=nginx", "--replicas=6", check=False)
    assert proc.stderr.strip() == f'error: failed to create deployment: deployments.apps "big" is forbidden: {denied}'
    manifest = api.kubectl("create", "deploy", "big", "--image=nginx", "--replicas=6", "--dry-run=client",
                           "-o", "yaml").stdout
    proc = api.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert proc.stderr.strip() == f'The deployments "big" is invalid: : {denied}'
    api.kubectl("create", "ns", "elsewhere")  # not selected by the binding's namespaceSelector
    assert api.kubectl("create", "deploy", "big", "-n", "elsewhere", "--image=nginx", "--replicas=6").returncode == 0
    assert api.kubectl("create", "deploy", "small", "--image=nginx", "--replicas=2").returncode == 0


def test_warn_binding_admits_with_a_warning(api):
    api.kubectl("apply", "-f", "-", input=DEMO.format(action="Warn"))
    api.kubectl("label", "ns", "default", "policy=on")
    proc = api.kubectl("create", "deploy", "big", "--image=nginx", "--replicas=6")
    assert ("Warning: Validation failed for ValidatingAdmissionPolicy 'max-replicas.example.com' with binding "
            "'max-replicas-binding.example.com': failed expression: object.spec.replicas <= 5") in proc.stderr
    assert "deployment.apps/big created" in proc.stdout


def test_a_bundle_shipping_the_policy_installs_whole(api):
    """Newer Gateway API bundles put the policy and its binding in the same file as the CRDs."""
    bundle = SAFE_UPGRADES.read_text(encoding="utf-8") + "\n---\n" + _gatewayclass_crd("v1.6.0")
    proc = api.kubectl("apply", "-f", "-", input=bundle)
    assert "customresourcedefinition.apiextensions.k8s.io/gatewayclasses.gateway.networking.k8s.io created" \
        in proc.stdout
    assert api.kubectl("get", "crd", "gatewayclasses.gateway.networking.k8s.io").returncode == 0
