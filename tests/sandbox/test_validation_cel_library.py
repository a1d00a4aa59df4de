"""Kubernetes' CEL libraries (ip, cidr, quantity, url) and CEL compile errors, through real kubectl 1.32.

Expected words as data from upstream: k8s.io/apiserver/pkg/cel/library/ip.go, cidr.go, quantity.go
(v0.32); a runtime error is `<error> evaluating rule: <message or rule>`
(k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go, ruleErrorString); a rule that
does not compile refuses the CRD (pkg/apis/apiextensions/validation/validation.go with
pkg/apiserver/schema/cel/compilation.go "compilation failed: " and cel-go common/errors.go's layout).
"""

from __future__ import annotations

import pytest

from crdyaml import crd_yaml

SPEC = """            type: object
            x-kubernetes-validations:
{rules}
            properties:
              address: {{type: string, maxLength: 64}}
              network: {{type: string, maxLength: 64}}
              memory: {{type: string, maxLength: 32}}
              limit: {{type: string, maxLength: 32}}
              endpoint: {{type: string, maxLength: 256}}
"""


def _crd(**fields) -> str:
    return crd_yaml("example.com", "Net", "nets", SPEC.format(**fields))


RULES = """            - rule: "!has(self.address) || ip(self.address).family() == 4"
              message: address must be IPv4
            - rule: "!has(self.network) || !has(self.address) || cidr(self.network).containsIP(self.address)"
              message: address must be inside network
            - rule: "!has(self.memory) || !has(self.limit) || quantity(self.memory).isLessThan(quantity(self.limit))"
              message: memory must be below limit
            - rule: "!has(self.endpoint) || url(self.endpoint).getScheme() == 'https'"
              message: endpoint must use https"""
NET = "apiVersion: example.com/v1\nkind: Net\nmetadata: {{name: {name}, namespace: default}}\nspec: {spec}\n"
INVALID = 'The Net "bad" is invalid: '


@pytest.fixture(scope="module")
def nets(module_api):
    module_api.kubectl("apply", "-f", "-", input=_crd(rules=RULES))
    module_api.kubectl("wait", "--for=condition=Established", "crd/nets.example.com", "--timeout=20s")
    return module_api


@pytest.mark.parametrize("spec,cause", [
    ("{address: '2001:db8::1'}", 'spec: Invalid value: "object": address must be IPv4'),
    ("{address: 10.1.2.3, network: 192.168.0.0/16}", 'spec: Invalid value: "object": address must be inside network'),
    ("{memory: 2Gi, limit: 1024Mi}", 'spec: Invalid value: "object": memory must be below limit'),
    ("{endpoint: 'http://example.com/x'}", 'spec: Invalid value: "object": endpoint must use https'),
    # run-time errors of the library, in its words, then the rule's message (ruleErrorString)
    ("{address: '::ffff:10.0.0.1'}", 'spec: Invalid value: "object": IPv4-mapped IPv6 address "::ffff:10.0.0.1" is '
                                     "not allowed evaluating rule: address must be IPv4"),
    ("{address: 'fe80::1%eth0'}", 'spec: Invalid value: "object": IP address "fe80::1%eth0" with zone value is not '
                                  "allowed evaluating rule: address must be IPv4"),
    ("{memory: lots, limit: 1Gi}", 'spec: Invalid value: "object": quantities must match the regular expression '
                                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' evaluating rule: memory must be "
                                   "below limit"),
])
def test_library_functions_decide_as_the_api_server(nets, spec, cause):
    proc = nets.kubectl("apply", "-f", "-", input=NET.format(name="bad", spec=spec), check=False)
    assert proc.returncode == 1
    assert f"{INVALID}{cause}" in proc.stderr


def test_values_the_libraries_accept(nets):
    good = "{address: 10.1.2.3, network: 10.0.0.0/8, memory: 512Mi, limit: 1Gi, endpoint: 'https://a.example:8443/p'}"
    proc = nets.kubectl("apply", "-f", "-", input=NET.format(name="good", spec=good))
    assert "net.example.com/good created" in proc.stdout and "Warning" not in proc.stderr


CRD_REFUSED = 'The CustomResourceDefinition "nets.example.com" is invalid: spec.validation.openAPIV3Schema.' \
              "properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{" \
              'Rule:"{rule}", Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), ' \
              'FieldPath:"", OptionalOldSelf:(*bool)(nil)}}: compilation failed: '


@pytest.mark.parametrize("rule,issue", [
    ("self.address == self.adress", "ERROR: <input>:1:21: undefined field 'adress'\n"
                                    " | self.address == self.adress\n | " + "." * 20 + "^"),
    ("has(self.port) && self.address != ''", "ERROR: <input>:1:9: undefined field 'port'\n"
                                             " | has(self.port) && self.address != ''\n | ........^"),
    ("self.address == adress", "ERROR: <input>:1:17: undeclared reference to 'adress' (in container '')\n"
                               " | self.address == adress\n | " + "." * 16 + "^"),
    ("self.address ==", "ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', "
                        "'-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n"
                        " | self.address ==\n | ...............^"),
])
def test_a_rule_that_does_not_compile_refuses_the_crd(api, rule, issue):
    rules = f'            - rule: "{rule}"'
    proc = api.kubectl("apply", "-f", "-", input=_crd(rules=rules), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == CRD_REFUSED.format(rule=rule) + issue
    assert api.kubectl("get", "crd", "nets.example.com", check=False).returncode == 1  # nothing stored


def test_a_message_expression_that_does_not_compile_refuses_the_crd(api):
    rules = '            - rule: "self.address != \'\'"\n              messageExpression: "\'bad: \' + self.adres"'
    proc = api.kubectl("apply", "-f", "-", input=_crd(rules=rules), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'The CustomResourceDefinition "nets.example.com" is invalid: spec.validation.openAPIV3Schema.properties[spec]'
        ".x-kubernetes-validations[0].messageExpression: Invalid value: apiextensions.ValidationRule{Rule:\"self."
        'address != \'\'", Message:"", MessageExpression:"\'bad: \' + self.adres", Reason:(*apiextensions.'
        'FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: messageExpression compilation '
        "failed: ERROR: <input>:1:15: undefined field 'adres'\n | 'bad: ' + self.adres\n | " + "." * 14 + "^")


def test_a_root_rule_sees_only_name_and_generate_name_of_metadata(api):
    crd = _crd(rules='            - rule: "true"').replace(
        "        type: object\n        properties:\n          spec:",
        "        type: object\n        x-kubernetes-validations:\n        - rule: \"self.metadata.labels.size() < 3\"\n"
        "        properties:\n          spec:", 1)
    proc = api.kubectl("apply", "-f", "-", input=crd, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith(
        "compilation failed: ERROR: <input>:1:14: undefined field 'labels'\n | self.metadata.labels.size() < 3\n"
        " | " + "." * 13 + "^")
    assert "spec.validation.openAPIV3Schema.x-kubernetes-validations[0].rule: Invalid value" in proc.stderr


def test_a_rule_or_message_of_the_wrong_type_refuses_the_crd(api):
    rules = '            - rule: "size(self.address)"\n              messageExpression: "self.address.size() > 1"'
    proc = api.kubectl("apply", "-f", "-", input=_crd(rules=rules), check=False)
    assert proc.returncode == 1
    value = ('apiextensions.ValidationRule{Rule:"size(self.address)", Message:"", MessageExpression:"self.address.'
             'size() > 1", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:'
             "(*bool)(nil)}")
    where = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0]"
    assert proc.stderr.strip() == (
        'The CustomResourceDefinition "nets.example.com" is invalid: \n'
        f"* {where}.rule: Invalid value: {value}: cel expression must evaluate to a bool\n"
        f"* {where}.messageExpression: Invalid value: {value}: messageExpression must evaluate to a string")
