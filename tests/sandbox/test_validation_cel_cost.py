"""CEL cost limits through real kubectl 1.32: a CRD whose rule is estimated too costly is refused, and a
rule whose evaluation costs more than the per-call limit refuses the object.

Constants and words from upstream: k8s.io/apiextensions-apiserver v0.32
pkg/apis/apiextensions/validation/validation.go (StaticEstimatedCostLimit 10000000,
StaticEstimatedCRDCostLimit 100000000, getCostErrorMessage, "contributed to estimated rule cost total
..."), k8s.io/apiserver pkg/apis/cel/config.go (PerCallLimit 1000000, RuntimeCELCostBudget 10000000),
pkg/apiserver/schema/cel/validation.go ("'operation cancelled: actual cost limit exceeded': no further
validation rules will be run due to call cost exceeds limit for rule: ...").
"""

from __future__ import annotations

import json

from tutorial.sandbox.api.validation import celcost

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: words.example.com}}
spec:
  group: example.com
  names: {{kind: Words, plural: words, singular: words, listKind: WordsList}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              words:
                type: array
                {bounds}
                x-kubernetes-validations:
                - rule: "self.all(x, x.matches('{regex}'))"
                  message: words are lowercase
                items: {{type: string {item}}}
"""
RULE = "spec.validation.openAPIV3Schema.properties[spec].properties[words].x-kubernetes-validations[0].rule"
HINT = "(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and " \
       "strings are declared)"
# a long regex makes each match dear (a quarter of its length per tenth of the string) and stays linear
DEAR = "^(" + "x" * 396 + "|[a-z]*)$"


def test_the_real_limits():
    assert (celcost.PER_CALL_LIMIT, celcost.RUNTIME_BUDGET) == (1_000_000, 10_000_000)
    assert (celcost.STATIC_LIMIT, celcost.STATIC_CRD_LIMIT, celcost.MAX_REQUEST) == (10_000_000, 100_000_000,
                                                                                     3 * 1024 * 1024)
    # cel-go's model: an unbounded int list holds (3 MiB - 2) / 2 items, each step of all() costs 3 + 2
    assert celcost.estimate("self.all(x, x > 0)", {"type": "array", "items": {"type": "integer"}}) == \
        (3 * 1024 * 1024 - 2) // 2 * 5 + 2
    assert celcost.budget_message("estimated rule cost", 18_100_000, 10_000_000).startswith(
        "estimated rule cost exceeds budget by factor of 1.8x")
    assert "factor of 1.200000x" in celcost.budget_message("estimated rule cost", 12_000_000, 10_000_000)


def test_an_unbounded_list_rule_is_refused_at_crd_creation(api):
    proc = api.kubectl("apply", "-f", "-", input=CRD.format(bounds="", regex="^[a-z]+$", item=""), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'The CustomResourceDefinition "words.example.com" is invalid: \n'
        f"* {RULE}: Forbidden: estimated rule cost exceeds budget by factor of more than 100x {HINT}\n"
        f"* {RULE}: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 "
        "schema\n"
        "* spec.validation.openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for "
        f"entire OpenAPIv3 schema exceeds budget by factor of more than 100x {HINT}")
    bounded = CRD.format(bounds="maxItems: 20", regex="^[a-z]+$", item=", maxLength: 64")
    assert "created" in api.kubectl("apply", "-f", "-", input=bounded).stdout


def test_a_rule_over_the_per_call_limit_refuses_the_object(api):
    api.kubectl("apply", "-f", "-", input=CRD.format(bounds="maxItems: 2000", regex=DEAR, item=", maxLength: 100"))
    api.kubectl("wait", "--for=condition=Established", "crd/words.example.com", "--timeout=20s")

    def words(name: str, n: int) -> str:
        return json.dumps({"apiVersion": "example.com/v1", "kind": "Words",
                           "metadata": {"name": name, "namespace": "default"}, "spec": {"words": ["a" * 100] * n}})

    assert api.kubectl("create", "-f", "-", input=words("few", 100)).returncode == 0
    proc = api.kubectl("create", "-f", "-", input=words("many", 1000), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'The Words "many" is invalid: spec.words: Invalid value: "array": \'operation cancelled: actual cost limit '
        "exceeded': no further validation rules will be run due to call cost exceeds limit for rule: words are "
        "lowercase")


def test_a_costly_message_expression_is_refused_too(api):
    crd = CRD.format(bounds="maxItems: 20", regex="^[a-z]+$", item=", maxLength: 64").replace(
        "message: words are lowercase", "messageExpression: \"self.map(w, w.lowerAscii()).join(', ')\"").replace(
        "maxItems: 20\n", "\n")
    proc = api.kubectl("apply", "-f", "-", input=crd, check=False)
    assert proc.returncode == 1
    where = RULE.rsplit(".", 1)[0] + ".messageExpression"
    # the rule (an unbounded list of 64-character words) is too dear as well: both are named
    assert f"* {RULE}: Forbidden: estimated rule cost exceeds budget by factor of " in proc.stderr
    assert f"* {where}: Forbidden: estimated messageExpression cost exceeds budget by factor of " in proc.stderr
