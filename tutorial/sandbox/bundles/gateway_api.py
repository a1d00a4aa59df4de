"""Our own minimal Gateway API v1.3.0 standard-channel CRDs, built from Python so they stay small.

Names, group, served/storage versions, scope, short names, categories, printer columns, the
status subresource, the bundle-version annotation and the CRD-defaulted "Waiting for controller"
status follow the v1.3.0 release (see FACTS.md section a); the schemas cover the fields the
tutorial uses and keep the rarely used subtrees open rather than spelling every field out.
"""

from __future__ import annotations

GROUP = "gateway.networking.k8s.io"
BUNDLE_VERSION = "v1.3.0"
_EPOCH = "1970-01-01T00:00:00Z"

_STR = {"type": "string"}
_INT = {"type": "integer", "format": "int32"}
_OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_AGE = {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"}


def _pending(kind: str) -> dict:
    return {"lastTransitionTime": _EPOCH, "message": "Waiting for controller",
            "reason": "Pending", "status": "Unknown", "type": kind}


def _obj(props: dict, required: list[str] | None = None, **extra) -> dict:
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def _arr(items: dict, max_items: int | None = None, **extra) -> dict:
    out = {"type": "array", "items": items}
    if max_items:
        out["maxItems"] = max_items
    out.update(extra)
    return out


def _conditions() -> dict:
    cond = _obj({"lastTransitionTime": {"type": "string", "format": "date-time"},
                 "message": {"type": "string", "maxLength": 32768},
                 "observedGeneration": {"type": "integer", "format": "int64", "minimum": 0},
                 "reason": {"type": "string", "maxLength": 1024, "minLength": 1},
                 "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
                 "type": {"type": "string", "maxLength": 316}},
                ["lastTransitionTime", "message", "reason", "status", "type"])
    return _arr(cond, 8, **{"x-kubernetes-list-map-keys": ["type"], "x-kubernetes-list-type": "map"})


def _parent_ref() -> dict:
    return _obj({"group": {"type": "string", "default": GROUP, "maxLength": 253},
                 "kind": {"type": "string", "default": "Gateway", "maxLength": 63, "minLength": 1},
                 "name": {"type": "string", "maxLength": 253, "minLength": 1},
                 "namespace": {"type": "string", "maxLength": 63, "minLength": 1},
                 "port": {**_INT, "minimum": 1, "maximum": 65535},
                 "sectionName": {"type": "string", "maxLength": 253, "minLength": 1}}, ["name"])


def _backend_ref() -> dict:
    return _obj({"group": {"type": "string", "default": "", "maxLength": 253},
                 "kind": {"type": "string", "default": "Service", "maxLength": 63, "minLength": 1},
                 "name": {"type": "string", "maxLength": 253, "minLength": 1},
                 "namespace": {"type": "string", "maxLength": 63, "minLength": 1},
                 "port": {**_INT, "minimum": 1, "maximum": 65535},
                 "weight": {**_INT, "default": 1, "minimum": 0, "maximum": 1000000},
                 "filters": _arr(_OPEN, 16)}, ["name"])


def _route_status() -> dict:
    parent = _obj({"conditions": _conditions(), "controllerName": _STR, "parentRef": _parent_ref()},
                  ["controllerName", "parentRef"])
    return _obj({"parents": _arr(parent, 32)}, ["parents"])


def _route_spec(kind: str) -> dict:
    match_default = [{"path": {"type": "PathPrefix", "value": "/"}}]
    path = _obj({"type": {"type": "string", "default": "PathPrefix",
                          "enum": ["Exact", "PathPrefix", "RegularExpression"]},
                 "value": {"type": "string", "default": "/", "maxLength": 1024}})
    header = _obj({"name": _STR, "type": {"type": "string", "default": "Exact"}, "value": _STR},
                  ["name", "value"])
    match = _obj({"path": {**path, "default": {"type": "PathPrefix", "value": "/"}},
                  "headers": _arr(header, 16), "queryParams": _arr(header, 16),
                  "method": {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "DELETE",
                                                        "CONNECT", "OPTIONS", "TRACE", "PATCH"]}})
    if kind == "GRPCRoute":
        match = _OPEN
    rule = _obj({"name": _STR, "matches": _arr(match, 64, default=match_default),
                 "filters": _arr(_OPEN, 16), "backendRefs": _arr(_backend_ref(), 16),
                 "timeouts": _OPEN})
    rules_default = [{"matches": match_default}] if kind == "HTTPRoute" else None
    rules = _arr(rule, 16)
    if rules_default:
        rules["default"] = rules_default
    return _obj({"hostnames": _arr({"type": "string", "maxLength": 253, "minLength": 1}, 16),
                 "parentRefs": _arr(_parent_ref(), 32), "rules": rules})


def _gatewayclass_schema() -> dict:
    spec = _obj({"controllerName": {"type": "string", "maxLength": 253, "minLength": 1},
                 "description": {"type": "string", "maxLength": 64},
                 "parametersRef": _obj({"group": _STR, "kind": _STR, "name": _STR,
                                        "namespace": _STR}, ["group", "kind", "name"])},
                ["controllerName"])
    status = _obj({"conditions": _conditions()},
                  default={"conditions": [_pending("Accepted")]})
    return _root(spec, status, ["spec"])


def _listener() -> dict:
    namespaces = _obj({"from": {"type": "string", "default": "Same", "enum": ["All", "Selector", "Same"]},
                       "selector": _OPEN}, default={"from": "Same"})
    kinds = _arr(_obj({"group": {"type": "string", "default": GROUP}, "kind": _STR}, ["kind"]), 8)
    allowed = _obj({"namespaces": namespaces, "kinds": kinds}, default={"namespaces": {"from": "Same"}})
    name_pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    return _obj({"name": {"type": "string", "maxLength": 253, "minLength": 1, "pattern": name_pattern},
                 "hostname": {"type": "string", "maxLength": 253, "minLength": 1},
                 "port": {**_INT, "minimum": 1, "maximum": 65535},
                 "protocol": {"type": "string", "maxLength": 255, "minLength": 1},
                 "tls": _OPEN, "allowedRoutes": allowed}, ["name", "port", "protocol"])


def _gateway_schema() -> dict:
    address = _obj({"type": {"type": "string", "default": "IPAddress"}, "value": _STR})
    spec = _obj({"gatewayClassName": {"type": "string", "maxLength": 253, "minLength": 1},
                 "listeners": _arr(_listener(), 64, minItems=1),
                 "addresses": _arr(address, 16), "infrastructure": _OPEN},
                ["gatewayClassName", "listeners"])
    listener_status = _obj({"name": _STR, "attachedRoutes": _INT, "conditions": _conditions(),
                            "supportedKinds": _arr(_obj({"group": _STR, "kind": _STR}, ["kind"]), 8)},
                           ["attachedRoutes", "conditions", "name", "supportedKinds"])
    status = _obj({"addresses": _arr(_obj({"type": _STR, "value": _STR}, ["value"]), 16),
                   "conditions": _conditions(), "listeners": _arr(listener_status, 64)},
                  default={"conditions": [_pending("Accepted"), _pending("Programmed")]})
    return _root(spec, status, ["spec"])


def _referencegrant_schema() -> dict:
    frm = _obj({"group": _STR, "kind": _STR, "namespace": _STR}, ["group", "kind", "namespace"])
    to = _obj({"group": _STR, "kind": _STR, "name": _STR}, ["group", "kind"])
    spec = _obj({"from": _arr(frm, 16, minItems=1), "to": _arr(to, 16, minItems=1)}, ["from", "to"])
    return _obj({"apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"}, "spec": spec})


def _root(spec: dict, status: dict | None, required: list[str] | None = None) -> dict:
    props = {"apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"}, "spec": spec}
    if status is not None:
        props["status"] = status
    return _obj(props, required)


def _version(name: str, storage: bool, schema: dict, columns: list[dict], status: bool = True) -> dict:
    out = {"name": name, "served": True, "storage": storage, "schema": {"openAPIV3Schema": schema},
           "additionalPrinterColumns": columns, "subresources": {"status": {}} if status else {}}
    return out


def _crd(plural: str, kind: str, scope: str, short: list[str], versions: list[dict]) -> dict:
    names = {"categories": ["gateway-api"], "kind": kind, "listKind": f"{kind}List",
             "plural": plural, "singular": kind.lower()}
    if short:
        names["shortNames"] = short
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{GROUP}",
                         "annotations": {f"{GROUP}/bundle-version": BUNDLE_VERSION,
                                         f"{GROUP}/channel": "standard"}},
            "spec": {"group": GROUP, "names": names, "scope": scope, "versions": versions}}


def _both(schema_fn, columns: list[dict]) -> list[dict]:
    return [_version("v1", True, schema_fn(), columns), _version("v1beta1", False, schema_fn(), columns)]


def crds() -> list[dict]:
    """The five standard CRDs in the release's order (gatewayclasses ... referencegrants)."""
    accepted = '.status.conditions[?(@.type=="Accepted")].status'
    programmed = '.status.conditions[?(@.type=="Programmed")].status'
    gc_cols = [{"jsonPath": ".spec.controllerName", "name": "Controller", "type": "string"},
               {"jsonPath": accepted, "name": "Accepted", "type": "string"}, _AGE,
               {"jsonPath": ".spec.description", "name": "Description", "priority": 1, "type": "string"}]
    gw_cols = [{"jsonPath": ".spec.gatewayClassName", "name": "Class", "type": "string"},
               {"jsonPath": ".status.addresses[*].value", "name": "Address", "type": "string"},
               {"jsonPath": programmed, "name": "Programmed", "type": "string"}, _AGE]
    route_cols = [{"jsonPath": ".spec.hostnames", "name": "Hostnames", "type": "string"}, _AGE]
    http_schema = lambda: _root(_route_spec("HTTPRoute"), _route_status(), ["spec"])  # noqa: E731
    grpc_schema = _root(_route_spec("GRPCRoute"), _route_status())
    return [
        _crd("gatewayclasses", "GatewayClass", "Cluster", ["gc"], _both(_gatewayclass_schema, gc_cols)),
        _crd("gateways", "Gateway", "Namespaced", ["gtw"], _both(_gateway_schema, gw_cols)),
        _crd("grpcroutes", "GRPCRoute", "Namespaced", [], [_version("v1", True, grpc_schema, route_cols)]),
        _crd("httproutes", "HTTPRoute", "Namespaced", [], _both(http_schema, route_cols)),
        _crd("referencegrants", "ReferenceGrant", "Namespaced", ["refgrant"],
             [_version("v1beta1", True, _referencegrant_schema(), [_AGE], status=False)]),
    ]


def render_yaml() -> str:
    """The bundle as one multi-document YAML file, like standard-install.yaml."""
    import yaml

    header = ("# Gateway API v1.3.0 standard channel CRDs, minimal edition written for the\n"
              "# gateway-tutorial sandbox (simulated cluster). Not the upstream release file.\n")
    docs = [yaml.safe_dump(crd, sort_keys=False, width=120) for crd in crds()]
    return header + "".join(f"---\n{doc}" for doc in docs)
