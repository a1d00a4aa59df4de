"""The Gateway API v1.3.0 CRD validation rules (CEL in the real CRDs) that learners can trip over.

Each validator returns (field path, message) causes in the API server's wording, so kubectl
prints e.g. `The HTTPRoute "emojivoto" is invalid: spec.rules[0].backendRefs[0]: Invalid value:
"object": Must have port for Service reference`.
"""

from __future__ import annotations

Cause = tuple[str, str]


def httproute(obj: dict, old: dict | None) -> list[Cause]:
    """Service backendRefs must carry a port."""
    causes = []
    for i, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for j, ref in enumerate(rule.get("backendRefs") or []):
            is_service = (ref.get("group") or "") == "" and (ref.get("kind") or "Service") == "Service"
            if is_service and ref.get("port") is None:
                causes.append((f"spec.rules[{i}].backendRefs[{j}]",
                               'Invalid value: "object": Must have port for Service reference'))
    return causes


def gatewayclass(obj: dict, old: dict | None) -> list[Cause]:
    """spec.controllerName is immutable."""
    if old is None:
        return []
    before = (old.get("spec") or {}).get("controllerName")
    after = (obj.get("spec") or {}).get("controllerName")
    if before is not None and after != before:
        return [("spec.controllerName", 'Invalid value: "string": Value is immutable')]
    return []


def _listener_rules(listeners: list[dict]) -> list[str]:
    messages = []
    if any(l.get("protocol") in ("HTTP", "TCP", "UDP") and "tls" in l for l in listeners):
        messages.append("tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']")
    if any(l.get("protocol") == "HTTPS" and (l.get("tls") or {}).get("mode", "Terminate") != "Terminate"
           for l in listeners):
        messages.append("tls mode must be Terminate for protocol HTTPS")
    if any(l.get("protocol") in ("TCP", "UDP") and l.get("hostname") for l in listeners):
        messages.append("hostname must not be specified for protocols ['TCP', 'UDP']")
    names = [l.get("name") for l in listeners]
    if len(names) != len(set(names)):
        messages.append("Listener name must be unique within the Gateway")
    combos = [(l.get("port"), l.get("protocol"), l.get("hostname") or "") for l in listeners]
    if len(combos) != len(set(combos)):
        messages.append("Combination of port, protocol and hostname must be unique for each listener")
    return messages


def gateway(obj: dict, old: dict | None) -> list[Cause]:
    """The listener-list rules of the v1.3.0 gateways CRD."""
    listeners = (obj.get("spec") or {}).get("listeners") or []
    return [("spec.listeners", f'Invalid value: "array": {m}') for m in _listener_rules(listeners)]


VALIDATORS = {
    ("gateway.networking.k8s.io", "httproutes"): httproute,
    ("gateway.networking.k8s.io", "gatewayclasses"): gatewayclass,
    ("gateway.networking.k8s.io", "gateways"): gateway,
}
