"""CRD rule options the Gateway API rules do not use, as a v1.32 API server honours them, via real kubectl:
messageExpression, reason + fieldPath, optionalOldSelf, and the Kubernetes CEL functions isURL / isIP / isCIDR."""

from __future__ import annotations

import pytest

from crdyaml import crd_yaml

CRD = crd_yaml("example.com", "Widget", "widgets", """            type: object
            required: [mode]
            x-kubernetes-validations:
            - rule: "!has(self.replicas) || self.replicas <= 5"
              messageExpression: "'replicas ' + (self.replicas > 9 ? 'far ' : '') + 'above 5'"
            - rule: "!has(self.forbidden)"
              message: forbidden must not be set
              reason: FieldValueForbidden
              fieldPath: .forbidden
            - rule: "!has(self.homepage) || isURL(self.homepage)"
              message: homepage must be a URL
            - rule: "!has(self.address) || isIP(self.address)"
              message: address must be an IP
            - rule: "!has(self.network) || isCIDR(self.network)"
              message: network must be a CIDR
            - rule: "!has(self.tags) || sets.contains(self.tags, ['a'])"
              message: tags must contain a
            - rule: "oldSelf.hasValue() ? self.mode == oldSelf.value().mode : self.mode == 'initial'"
              optionalOldSelf: true
              message: mode starts as initial and never changes
            properties:
              replicas: {type: integer}
              forbidden: {type: string}
              homepage: {type: string}
              address: {type: string}
              mode: {type: string}
              network: {type: string}
              tags: {type: array, items: {type: string}, maxItems: 4}
""")
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: {name}, namespace: default}}\nspec: {spec}\n"


@pytest.fixture(scope="module")
def widgets(module_api):
    module_api.kubectl("apply", "-f", "-", input=CRD)
    module_api.kubectl("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s")
    return module_api


@pytest.mark.parametrize("spec,cause", [
    ("{mode: initial, replicas: 6}", 'spec: Invalid value: "object": replicas above 5'),
    ("{mode: initial, replicas: 12}", 'spec: Invalid value: "object": replicas far above 5'),
    ("{mode: initial, forbidden: x}", "spec.forbidden: Forbidden: forbidden must not be set"),
    ("{mode: initial, homepage: not a url}", 'spec: Invalid value: "object": homepage must be a URL'),
    ("{mode: initial, address: 10.0.0.300}", 'spec: Invalid value: "object": address must be an IP'),
    ("{mode: initial, network: x}", 'spec: Invalid value: "object": network must be a CIDR'),
    ("{mode: later}", 'spec: Invalid value: "object": mode starts as initial and never changes'),
])
def test_rule_options_are_worded_as_the_api_server(widgets, spec, cause):
    proc = widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="bad", spec=spec), check=False)
    assert f'The Widget "bad" is invalid: {cause}' in proc.stderr


def test_passing_values_and_the_optional_old_self_transition(widgets):
    good = "{mode: initial, replicas: 5, homepage: 'https://example.com/x', address: '2001:db8::1'}"
    widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="good", spec=good))
    proc = widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="good", spec="{mode: later}"), check=False)
    assert 'The Widget "good" is invalid: spec: Invalid value: "object": mode starts as initial and never changes' \
        in proc.stderr
    assert widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="good", spec="{mode: initial, replicas: 1}"))


def test_a_rule_the_engine_cannot_run_is_said_not_simulated(widgets):
    """The sets library is not in our engine: the write goes through with a warning that names the rule
    as not checked, rather than a refusal a real cluster would not give."""
    proc = widgets.kubectl("apply", "-f", "-", input=WIDGET.format(name="net", spec="{mode: initial, tags: [b]}"))
    assert "configured" in proc.stdout or "created" in proc.stdout
    assert ("Warning: x-kubernetes-validations rule at spec was not checked: Undefined variable or function: "
            "'sets' (not simulated by the sandbox's CEL engine)") in proc.stderr
