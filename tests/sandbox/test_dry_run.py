"""A server-side dry run of an update is validated like the update itself (a real API server does
that: schema, CEL rules, admission) and stores nothing; before, the sandbox said "configured" to
anything. The write-it-yourself diff relies on it to show the API server's refusal first."""

from __future__ import annotations

from cluster_fixtures import require_kubectl, sandbox  # noqa: F401  (fixture)

GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: default
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    protocol: HTTP
    port: 8080
"""


def test_dry_run_update_is_validated_and_changes_nothing(sandbox):  # noqa: F811
    from tutorial.sandbox.bundles import gateway_api_bundle

    require_kubectl()
    sandbox.kubectl("apply", "-f", str(gateway_api_bundle()))
    sandbox.kubectl("wait", "--for=condition=Established", "crd/gateways.gateway.networking.k8s.io")
    sandbox.kubectl("apply", "-f", "-", input=GATEWAY)
    bad = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=GATEWAY.replace("8080", "99999"),
                          check=False)
    assert bad.returncode != 0
    assert "spec.listeners[0].port" in bad.stderr and "65535" in bad.stderr
    good = sandbox.kubectl("apply", "--dry-run=server", "-f", "-", input=GATEWAY.replace("8080", "8081"))
    assert "(server dry run)" in good.stdout
    port = sandbox.kubectl("get", "gateway", "edge", "-o", "jsonpath={.spec.listeners[0].port}").stdout
    assert port == "8080"  # the dry run stored nothing
