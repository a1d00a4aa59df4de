"""One CRD for tests of custom-resource validation: namespaced, serving v1, the test's own `.spec` schema."""

from __future__ import annotations

_HEAD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %(plural)s.%(group)s}
spec:
  group: %(group)s
  names: {kind: %(kind)s, plural: %(plural)s, singular: %(singular)s, listKind: %(kind)sList%(short)s}
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
"""


def crd_yaml(group: str, kind: str, plural: str, spec_schema: str, short_names: tuple[str, ...] = ()) -> str:
    """The CRD's YAML; `spec_schema` is the lines of `.spec`'s schema, written at their place in
    the document (12 spaces in); lines after it at 4 spaces in belong to the version (printer columns)."""
    short = f", shortNames: [{', '.join(short_names)}]" if short_names else ""
    return _HEAD % {"group": group, "kind": kind, "plural": plural, "singular": kind.lower(), "short": short} + spec_schema
