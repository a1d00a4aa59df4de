"""Decode the Kubernetes protobuf bodies that typed `kubectl create ...` subcommands send.

The body is `k8s\\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; raw is the object's
protobuf. We decode the fields of the kinds kubectl can create (Namespace, ConfigMap, Secret,
ServiceAccount, Deployment, Service, ...) into the JSON shape, and answer in JSON.
"""

from __future__ import annotations

import base64
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(Exception):
    """A body we cannot decode; the server answers 415 or 400 with the message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated protobuf varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """Raw (field number, wire type, value) triples of one message."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 2:
            n, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + n], pos + n
        elif wt == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wt == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported protobuf wire type {wt}")
        out.append((num, wt, val))
    return out


# Schemas: field number -> (json name, type); types: str, int, bool, bytes (base64 in JSON),
# map (string->string), bmap (string->bytes), intstr, a nested schema dict, or [type] for repeated.
LABEL_SELECTOR = {1: ("matchLabels", "map")}
OWNER_REF = {1: ("kind", "str"), 3: ("name", "str"), 4: ("uid", "str"), 5: ("apiVersion", "str"),
             6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
OBJECT_META = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
               11: ("labels", "map"), 12: ("annotations", "map"), 13: ("ownerReferences", [OWNER_REF]),
               14: ("finalizers", ["str"])}
CONTAINER_PORT = {1: ("name", "str"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                  4: ("protocol", "str"), 5: ("hostIP", "str")}
ENV_VAR = {1: ("name", "str"), 2: ("value", "str")}
RESOURCES = {1: ("limits", "qmap"), 2: ("requests", "qmap")}
CONTAINER = {1: ("name", "str"), 2: ("image", "str"), 3: ("command", ["str"]), 4: ("args", ["str"]),
             5: ("workingDir", "str"), 6: ("ports", [CONTAINER_PORT]), 7: ("env", [ENV_VAR]),
             8: ("resources", RESOURCES), 13: ("terminationMessagePath", "str"),
             14: ("imagePullPolicy", "str"), 16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
             20: ("terminationMessagePolicy", "str")}
POD_SPEC = {2: ("containers", [CONTAINER]), 3: ("restartPolicy", "str"), 4: ("terminationGracePeriodSeconds", "int"),
            6: ("dnsPolicy", "str"), 7: ("nodeSelector", "map"), 8: ("serviceAccountName", "str"),
            20: ("initContainers", [CONTAINER])}
POD_TEMPLATE = {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)}
DEPLOYMENT_SPEC = {1: ("replicas", "int"), 2: ("selector", LABEL_SELECTOR), 3: ("template", POD_TEMPLATE),
                   4: ("strategy", {}), 5: ("minReadySeconds", "int"), 6: ("revisionHistoryLimit", "int"),
                   7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "int")}
SERVICE_PORT = {1: ("name", "str"), 2: ("protocol", "str"), 3: ("port", "int"),
                4: ("targetPort", "intstr"), 5: ("nodePort", "int"), 6: ("appProtocol", "str")}
SERVICE_SPEC = {1: ("ports", [SERVICE_PORT]), 2: ("selector", "map"), 3: ("clusterIP", "str"),
                4: ("type", "str"), 7: ("sessionAffinity", "str"), 10: ("externalName", "str")}
LOCAL_REF = {1: ("name", "str")}
# batch/v1, networking/v1, policy/v1, core/v1 quota, authentication/v1, scheduling/v1 (k8s.io/api generated.proto)
JOB_SPEC = {1: ("parallelism", "int"), 2: ("completions", "int"), 3: ("activeDeadlineSeconds", "int"),
            4: ("selector", LABEL_SELECTOR), 5: ("manualSelector", "bool"), 6: ("template", POD_TEMPLATE),
            7: ("backoffLimit", "int"), 8: ("ttlSecondsAfterFinished", "int"), 9: ("completionMode", "str"),
            10: ("suspend", "bool")}
JOB_TEMPLATE = {1: ("metadata", OBJECT_META), 2: ("spec", JOB_SPEC)}
CRONJOB_SPEC = {1: ("schedule", "str"), 2: ("startingDeadlineSeconds", "int"), 3: ("concurrencyPolicy", "str"),
                4: ("suspend", "bool"), 5: ("jobTemplate", JOB_TEMPLATE), 6: ("successfulJobsHistoryLimit", "int"),
                7: ("failedJobsHistoryLimit", "int"), 8: ("timeZone", "str")}
INGRESS_BACKEND = {4: ("service", {1: ("name", "str"), 2: ("port", {1: ("name", "str"), 2: ("number", "int")})}),
                   3: ("resource", {1: ("apiGroup", "str"), 2: ("kind", "str"), 3: ("name", "str")})}
HTTP_PATH = {1: ("path", "str"), 3: ("pathType", "str"), 2: ("backend", INGRESS_BACKEND)}
INGRESS_RULE = {1: ("host", "str"), 2: ("", {1: ("http", {1: ("paths", [HTTP_PATH])})})}  # "" = inline
INGRESS_SPEC = {4: ("ingressClassName", "str"), 1: ("defaultBackend", INGRESS_BACKEND),
                2: ("tls", [{1: ("hosts", ["str"]), 2: ("secretName", "str")}]), 3: ("rules", [INGRESS_RULE])}
PDB_SPEC = {1: ("minAvailable", "intstr"), 2: ("selector", LABEL_SELECTOR), 3: ("maxUnavailable", "intstr"),
            4: ("unhealthyPodEvictionPolicy", "str")}
QUOTA_SPEC = {1: ("hard", "qmap"), 2: ("scopes", ["str"])}
TOKEN_SPEC = {1: ("audiences", ["str"]), 4: ("expirationSeconds", "int"),
              3: ("boundObjectRef", {1: ("kind", "str"), 2: ("apiVersion", "str"), 3: ("name", "str"),
                                     4: ("uid", "str")})}
POLICY_RULE = {1: ("verbs", ["str"]), 2: ("apiGroups", ["str"]), 3: ("resources", ["str"]),
               4: ("resourceNames", ["str"]), 5: ("nonResourceURLs", ["str"])}
SUBJECT = {1: ("kind", "str"), 2: ("apiGroup", "str"), 3: ("name", "str"), 4: ("namespace", "str")}
ROLE_REF = {1: ("apiGroup", "str"), 2: ("kind", "str"), 3: ("name", "str")}
POINTER_FIELDS = {"replicas", "immutable", "automountServiceAccountToken", "revisionHistoryLimit",
                  "progressDeadlineSeconds", "parallelism", "completions", "backoffLimit", "suspend",
                  "terminationGracePeriodSeconds", "expirationSeconds", "minAvailable", "maxUnavailable",
                  "startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"}
KINDS = {
    "Namespace": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("finalizers", ["str"])})},
    "ConfigMap": {1: ("metadata", OBJECT_META), 2: ("data", "map"), 3: ("binaryData", "bmap"),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", OBJECT_META), 2: ("data", "bmap"), 3: ("type", "str"),
               4: ("stringData", "map"), 5: ("immutable", "bool")},
    "ServiceAccount": {1: ("metadata", OBJECT_META), 2: ("secrets", [{1: ("kind", "str"), 3: ("name", "str")}]),
                       3: ("imagePullSecrets", [LOCAL_REF]), 4: ("automountServiceAccountToken", "bool")},
    "Deployment": {1: ("metadata", OBJECT_META), 2: ("spec", DEPLOYMENT_SPEC)},
    "Service": {1: ("metadata", OBJECT_META), 2: ("spec", SERVICE_SPEC)},
    "Pod": {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)},
    "SelfSubjectAccessReview": {1: ("metadata", OBJECT_META), 2: ("spec", {
        1: ("resourceAttributes", {1: ("namespace", "str"), 2: ("verb", "str"), 3: ("group", "str"),
                                   4: ("version", "str"), 5: ("resource", "str"), 6: ("subresource", "str"),
                                   7: ("name", "str")}),
        2: ("nonResourceAttributes", {1: ("path", "str"), 2: ("verb", "str")})})},
    "Role": {1: ("metadata", OBJECT_META), 2: ("rules", [POLICY_RULE])},
    "ClusterRole": {1: ("metadata", OBJECT_META), 2: ("rules", [POLICY_RULE])},
    "RoleBinding": {1: ("metadata", OBJECT_META), 2: ("subjects", [SUBJECT]), 3: ("roleRef", ROLE_REF)},
    "ClusterRoleBinding": {1: ("metadata", OBJECT_META), 2: ("subjects", [SUBJECT]), 3: ("roleRef", ROLE_REF)},
    "SelfSubjectReview": {1: ("metadata", OBJECT_META)},
    "Job": {1: ("metadata", OBJECT_META), 2: ("spec", JOB_SPEC)},
    "CronJob": {1: ("metadata", OBJECT_META), 2: ("spec", CRONJOB_SPEC)},
    "Ingress": {1: ("metadata", OBJECT_META), 2: ("spec", INGRESS_SPEC)},
    "PodDisruptionBudget": {1: ("metadata", OBJECT_META), 2: ("spec", PDB_SPEC)},
    "ResourceQuota": {1: ("metadata", OBJECT_META), 2: ("spec", QUOTA_SPEC)},
    "TokenRequest": {1: ("metadata", OBJECT_META), 2: ("spec", TOKEN_SPEC)},
    "PriorityClass": {1: ("metadata", OBJECT_META), 2: ("value", "int"), 3: ("globalDefault", "bool"),
                      4: ("description", "str"), 5: ("preemptionPolicy", "str")},
    "SelfSubjectRulesReview": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("namespace", "str")})},
}


def _scalar(type_: str, wt: int, val: Any) -> Any:
    if type_ == "str":
        return val.decode("utf-8")
    if type_ == "bytes":
        return base64.b64encode(val).decode()
    if type_ == "int":
        return val - (1 << 64) if val >= 1 << 63 else val
    if type_ == "bool":
        return bool(val)
    if type_ == "intstr":
        parts = {n: v for n, _, v in fields(val)}
        return parts[3].decode() if parts.get(1) == 1 else parts.get(2, 0)
    raise ProtobufError(f"unknown field type {type_}")


def _map_value(type_: str, value: bytes) -> str:
    if type_ == "map":
        return value.decode()
    if type_ == "qmap":  # resource.Quantity is a message holding its string form in field 1
        return next((v.decode() for n, _, v in fields(value) if n == 1), "0")
    return base64.b64encode(value).decode()


def decode_message(buf: bytes, schema: dict) -> dict:
    """Decode buf with schema into a JSON dict; unknown fields are skipped."""
    out: dict = {}
    for num, wt, val in fields(buf):
        if num not in schema:
            continue
        name, type_ = schema[num]
        if isinstance(type_, list):
            item = type_[0]
            out.setdefault(name, []).append(decode_message(val, item) if isinstance(item, dict)
                                            else _scalar(item, wt, val))
        elif isinstance(type_, dict):
            if name:
                out[name] = decode_message(val, type_)
            else:  # an inlined struct (IngressRule's IngressRuleValue): its fields sit in the parent
                out.update(decode_message(val, type_))
        elif type_ in ("map", "bmap", "qmap"):
            entry = {n: v for n, _, v in fields(val)}
            value = entry.get(2, b"")
            out.setdefault(name, {})[entry.get(1, b"").decode()] = _map_value(type_, value)
        else:
            value = _scalar(type_, wt, val)
            # proto2 always carries non-pointer scalars; JSON omits their zero values
            if value not in ("", 0, False) or name in POINTER_FIELDS:
                out[name] = value
    return out


def decode(body: bytes) -> dict:
    """The JSON object for a `k8s\\0` protobuf body; raises ProtobufError when we cannot."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body is not a Kubernetes protobuf message (missing k8s\\0 prefix)")
    unknown = {n: v for n, _, v in fields(body[len(MAGIC):])}
    type_meta = {n: v.decode() for n, _, v in fields(unknown.get(1, b""))}
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ProtobufError(
            f"the sandbox cannot decode a protobuf {kind or 'object'}; send JSON instead, e.g. "
            "`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`")
    obj = {"apiVersion": api_version, "kind": kind}
    obj.update(decode_message(unknown.get(2, b""), schema))
    return obj
