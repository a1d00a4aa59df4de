"""ValidatingAdmissionPolicy beyond Deny/Warn, through real kubectl 1.32: params (paramKind + paramRef,
parameterNotFoundAction), matchConditions, variables, messageExpression and reason, Audit, DELETE and
CONNECT requests, refusal of expressions that do not compile, and status.typeChecking.

Expected words as data from upstream k8s.io/apiserver v0.32: policy/validating/dispatcher.go (denied
request, Warn header, the validation_failure audit annotation), policy/generic/policy_dispatcher.go
(CollectParams: "no params found for policy binding with `Deny` parameterNotFoundAction"),
plugin/cel/activation.go ("expression '...' resulted in error: ..."), policy/validating/typechecking.go
(expressionWarnings "<GVK>: <issues>\\n"); kubernetes pkg/apis/admissionregistration/validation
(validateValidationExpression: "compilation failed: ...").
"""

from __future__ import annotations

import json
import logging

POLICY = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: limits.example.com}}
spec:
  paramKind: {{apiVersion: v1, kind: ConfigMap}}
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}}
  matchConditions:
  - name: not-exempt
    expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
  variables:
  - name: limit
    expression: "int(params.data.max)"
  validations:
  - expression: "object.spec.replicas <= variables.limit"
    messageExpression: "'replicas ' + string(object.spec.replicas) + ' above ' + string(variables.limit)"
    reason: Forbidden
  auditAnnotations:
  - key: replicas
    valueExpression: "string(object.spec.replicas)"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: limits-binding.example.com}}
spec:
  policyName: limits.example.com
  validationActions: [{actions}]
  paramRef: {{name: limits, parameterNotFoundAction: {missing}}}
"""
DENIED = "ValidatingAdmissionPolicy 'limits.example.com' with binding 'limits-binding.example.com' denied request: "
GUARD = """apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: keep.example.com}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [DELETE, CONNECT], resources: [configmaps, pods/exec]}
  validations:
  - expression: "request.operation != 'DELETE' || object == null && oldObject.metadata.name != 'limits'"
    message: the limits ConfigMap is kept
  - expression: "request.operation != 'CONNECT' || !('sh' in object.command)"
    message: no shells in containers
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: keep-binding.example.com}
spec:
  policyName: keep.example.com
  validationActions: [Deny]
"""


def _create_deploy(api, name: str, replicas: int, *extra: str):
    return api.kubectl("create", "deploy", name, "--image=nginx", f"--replicas={replicas}", *extra, check=False)


def test_params_variables_and_message_expression(api):
    api.kubectl("apply", "-f", "-", input=POLICY.format(actions="Deny", missing="Deny"))
    proc = _create_deploy(api, "big", 6)
    assert proc.stderr.strip() == ('error: failed to create deployment: deployments.apps "big" is forbidden: '
                                   f"{DENIED}failed to configure binding: no params found for policy binding with "
                                   "`Deny` parameterNotFoundAction")
    api.kubectl("create", "configmap", "limits", "--from-literal=max=5")
    proc = _create_deploy(api, "big", 6)
    assert proc.stderr.strip() == ('error: failed to create deployment: deployments.apps "big" is forbidden: '
                                   f"{DENIED}replicas 6 above 5")
    assert _create_deploy(api, "small", 5).returncode == 0
    manifest = api.kubectl("create", "deploy", "tagged", "--image=nginx", "--replicas=9", "--dry-run=client",
                           "-o", "json").stdout
    exempt = json.loads(manifest)
    exempt["metadata"]["labels"]["exempt"] = "yes"  # matchConditions: the policy does not apply
    assert api.kubectl("create", "-f", "-", input=json.dumps(exempt)).returncode == 0


def test_parameter_not_found_allow_admits(api):
    api.kubectl("apply", "-f", "-", input=POLICY.format(actions="Deny", missing="Allow"))
    assert _create_deploy(api, "big", 50).returncode == 0


def test_audit_action_admits_and_publishes_the_annotations(api, caplog):
    caplog.set_level(logging.INFO, logger="tutorial.sandbox.audit")
    api.kubectl("apply", "-f", "-", input=POLICY.format(actions="Audit", missing="Deny"))
    api.kubectl("create", "configmap", "limits", "--from-literal=max=5")
    proc = _create_deploy(api, "big", 6)
    assert proc.returncode == 0 and "Warning" not in proc.stderr
    lines = [r.getMessage() for r in caplog.records if r.name == "tutorial.sandbox.audit"]
    assert "audit annotation limits.example.com/replicas=6" in lines
    failure = [json.loads(line.split("=", 1)[1]) for line in lines
               if line.startswith("audit annotation validation.policy.admission.k8s.io/validation_failure=")]
    assert failure == [[{"message": "replicas 6 above 5", "policy": "limits.example.com",
                         "binding": "limits-binding.example.com", "expressionIndex": 0,
                         "validationActions": ["Audit"]}]]


def test_warn_and_audit_together(api):
    api.kubectl("apply", "-f", "-", input=POLICY.format(actions="Warn, Audit", missing="Deny"))
    api.kubectl("create", "configmap", "limits", "--from-literal=max=5")
    proc = _create_deploy(api, "big", 6)
    assert proc.returncode == 0
    assert ("Warning: Validation failed for ValidatingAdmissionPolicy 'limits.example.com' with binding "
            "'limits-binding.example.com': replicas 6 above 5") in proc.stderr


def test_delete_and_connect_requests_meet_the_policy(api):
    api.kubectl("apply", "-f", "-", input=GUARD)
    api.kubectl("create", "configmap", "limits", "--from-literal=max=5")
    api.kubectl("create", "configmap", "other")
    proc = api.kubectl("delete", "configmap", "limits", check=False)
    assert proc.returncode == 1
    assert ("ValidatingAdmissionPolicy 'keep.example.com' with binding 'keep-binding.example.com' denied request: "
            "the limits ConfigMap is kept") in proc.stderr
    assert api.kubectl("delete", "configmap", "other").returncode == 0
    assert api.kubectl("get", "configmap", "limits").returncode == 0
    api.kubectl("run", "p", "--image=nginx")
    proc = api.kubectl("exec", "p", "--", "sh", "-c", "id", check=False)
    assert proc.returncode == 1
    assert ("ValidatingAdmissionPolicy 'keep.example.com' with binding 'keep-binding.example.com' denied request: "
            "no shells in containers") in proc.stderr


def test_an_expression_that_does_not_parse_refuses_the_policy(api):
    broken = POLICY.split("---")[0].format().replace("object.spec.replicas <= variables.limit",
                                                      "object.spec.replicas <=")
    proc = api.kubectl("apply", "-f", "-", input=broken, check=False)
    assert proc.stderr.strip() == (
        'The ValidatingAdmissionPolicy "limits.example.com" is invalid: spec.validations[0].expression: Invalid '
        'value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:24: Syntax error: mismatched input '
        "'<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, "
        "STRING, BYTES, IDENTIFIER}\n | object.spec.replicas <=\n | " + "." * 23 + "^")


def test_type_checking_warns_of_fields_the_matched_kind_lacks(api):
    policy = POLICY.split("---")[0].format().replace("object.spec.replicas <= variables.limit",
                                                      "object.spec.replicaz <= variables.limit")
    api.kubectl("apply", "-f", "-", input=policy)
    status = {}
    for _ in range(50):  # written by the status controller right after the policy is stored
        status = json.loads(api.kubectl("get", "validatingadmissionpolicy", "limits.example.com",
                                        "-o", "jsonpath={.status}").stdout or "{}")
        if status:
            break
    assert status == {"observedGeneration": 1, "typeChecking": {"expressionWarnings": [{
        "fieldRef": "spec.validations[0].expression",
        "warning": "apps/v1, Kind=Deployment: compilation failed: ERROR: <input>:1:12: undefined field 'replicaz'\n"
                   " | object.spec.replicaz <= variables.limit\n | ...........^\n"}]}}


def test_an_undeclared_variable_refuses_the_policy(api):
    broken = POLICY.split("---")[0].format().replace("object.spec.replicas <= variables.limit",
                                                      "objct.spec.replicas <= variables.limit")
    proc = api.kubectl("apply", "-f", "-", input=broken, check=False)
    assert proc.stderr.strip() == (
        'The ValidatingAdmissionPolicy "limits.example.com" is invalid: spec.validations[0].expression: Invalid '
        'value: "objct.spec.replicas <= variables.limit": compilation failed: ERROR: <input>:1:1: undeclared '
        "reference to 'objct' (in container '')\n | objct.spec.replicas <= variables.limit\n | ^")


def test_an_expression_over_the_per_call_cost_limit_is_an_error(api):
    policy = GUARD.replace("operations: [DELETE, CONNECT], resources: [configmaps, pods/exec]",
                           "operations: [CREATE], resources: [configmaps]").replace(
        "request.operation != 'DELETE' || object == null && oldObject.metadata.name != 'limits'",
        "!has(object.data) || object.data.all(k, object.data[k].contains(object.data[k]))")
    api.kubectl("apply", "-f", "-", input=policy)
    small = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "small"},
             "data": {f"k{n}": "x" * 1000 for n in range(10)}}
    assert api.kubectl("create", "-f", "-", input=json.dumps(small)).returncode == 0
    # 100 values of 1000 characters: contains costs 100 x 100 each, past PerCallLimit (1000000)
    big = dict(small, metadata={"name": "big"}, data={f"k{n}": "x" * 1000 for n in range(100)})
    proc = api.kubectl("create", "-f", "-", input=json.dumps(big), check=False)
    assert proc.returncode == 1
    assert ("ValidatingAdmissionPolicy 'keep.example.com' with binding 'keep-binding.example.com' denied request: "
            "expression '!has(object.data) || object.data.all(k, object.data[k].contains(object.data[k]))' "
            "resulted in error: operation cancelled: actual cost limit exceeded") in proc.stderr
