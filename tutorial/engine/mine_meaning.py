"""What one change in a learner's Gateway API manifest will do, in words, checked against the cluster.

Each rule looks at the path of the changed field and, where the answer depends on the cluster (which
listeners a Gateway has, which ports a Service has), reads it. Unknown fields get no sentence.
"""

from __future__ import annotations

import re

PROTOCOLS = ("HTTP", "HTTPS", "TLS", "TCP", "UDP")


def meaning(engine, doc: dict, path: str, value) -> str:
    for pattern, rule in RULES:
        match = re.fullmatch(pattern, path)
        if match:
            try:
                return rule(engine, doc, match, value)
            except Exception:  # the cluster could not be read: the change is still listed
                return ""
    return ""


def _get(engine, api: str, kind: str, ns: str | None, name: str) -> dict | None:
    return engine.client.get(engine.client.resource(api, kind), ns, name)


def _parent(doc: dict, i: int) -> tuple[str, str]:
    ref = (doc.get("spec") or {}).get("parentRefs", [])[i]
    return ref.get("namespace") or doc["metadata"].get("namespace", "default"), ref.get("name", "")


def _section_name(engine, doc, m, value) -> str:
    ns, name = _parent(doc, int(m.group(1)))
    gw = _get(engine, "gateway.networking.k8s.io/v1", "Gateway", ns, name)
    if value is None:
        return "The route then asks every listener of its Gateway."
    if gw is None:
        return f"(Gateway {ns}/{name} does not exist yet, so this cannot be checked.)"
    names = [l.get("name") for l in gw.get("spec", {}).get("listeners", [])]
    if value not in names:
        return (f"sectionName {value} names no listener of this Gateway (it has {', '.join(names)}): the route "
                "will not attach (Accepted False, NoMatchingParent) and the app gets no traffic.")
    return f"The route attaches to listener {value} only."


def _parent_namespace(engine, doc, m, value) -> str:
    ns, name = _parent(doc, int(m.group(1)))
    if _get(engine, "gateway.networking.k8s.io/v1", "Gateway", ns, name) is None:
        return (f"There is no Gateway {name} in namespace {ns} (a parentRef without namespace means the "
                "route's own namespace): the route will not attach.")
    return f"The route asks Gateway {ns}/{name} to take it."


def _backend_port(engine, doc, m, value) -> str:
    ref = doc["spec"]["rules"][int(m.group(1))]["backendRefs"][int(m.group(2))]
    ns = ref.get("namespace") or doc["metadata"].get("namespace", "default")
    svc = _get(engine, "v1", "Service", ns, ref.get("name", ""))
    if svc is None:
        return f"(Service {ns}/{ref.get('name')} does not exist, so the port cannot be checked.)"
    ports = [p.get("port") for p in svc.get("spec", {}).get("ports", [])]
    if value not in ports:
        return (f"Service {ref.get('name')} has no port {value} (it has {', '.join(map(str, ports))}; 8080 is "
                "the pod's port, not the Service's): ResolvedRefs False, and requests get HTTP 500.")
    return f"Traffic goes to Service {ref.get('name')} port {value}."


def _backend_name(engine, doc, m, value) -> str:
    ns = doc["metadata"].get("namespace", "default")
    if _get(engine, "v1", "Service", ns, str(value)) is None:
        return f"There is no Service {value} in {ns}: ResolvedRefs False (BackendNotFound), requests get HTTP 500."
    return f"Traffic goes to Service {value}."


def _protocol(engine, doc, m, value) -> str:
    if value not in PROTOCOLS:
        return (f"Protocol names are case-sensitive ({', '.join(PROTOCOLS)}): Istio marks the listener "
                "UnsupportedProtocol and it serves nothing.")
    return f"The listener speaks {value}."


def _listener_port(engine, doc, m, value) -> str:
    return f"The Gateway listens on port {value}; lesson 6 and the checks then use that port, not 8080."


def _class_name(engine, doc, m, value) -> str:
    if _get(engine, "gateway.networking.k8s.io/v1", "GatewayClass", None, str(value)) is None:
        return (f"There is no GatewayClass {value}: no controller takes the Gateway, which stays "
                "'Waiting for controller' with no address.")
    return f"GatewayClass {value} decides which controller runs the Gateway."


def _allowed(engine, doc, m, value) -> str:
    return "This changes which namespaces may attach routes to the listener (allowedRoutes)."


def _hostnames(engine, doc, m, value) -> str:
    return ("The route then answers only requests for those host names; a request to the Gateway's "
            "address without that Host header gets 404.")


RULES = [
    (r"spec\.parentRefs\[(\d+)\]\.sectionName", _section_name),
    (r"spec\.parentRefs\[(\d+)\]\.namespace", _parent_namespace),
    (r"spec\.rules\[(\d+)\]\.backendRefs\[(\d+)\]\.port", _backend_port),
    (r"spec\.rules\[(\d+)\]\.backendRefs\[(\d+)\]\.name", _backend_name),
    (r"spec\.listeners\[(\d+)\]\.protocol", _protocol),
    (r"spec\.listeners\[(\d+)\]\.port", _listener_port),
    (r"spec\.gatewayClassName", _class_name),
    (r"spec\.listeners\[(\d+)\]\.allowedRoutes\..*", _allowed),
    (r"spec\.hostnames.*", _hostnames),
]
