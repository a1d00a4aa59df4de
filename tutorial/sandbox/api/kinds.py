"""Kind-specific behaviour the API server applies to object bodies of built-in kinds.

Defaults and kept allocations (a Service's clusterIP, a Pod's defaults), the answer to review
kinds, core/v1 <-> events.k8s.io/v1 Event conversion, the Scale subresource view, and the
field-type checks the real decoder makes before any validation (including a CRD's own shape).
"""

from __future__ import annotations

import base64

from tutorial.sandbox.api.resources import CRDS, ResourceType

LOG_ANNOTATION = "sandbox.gateway-tutorial/log"


def builtin_defaults(rt: ResourceType, obj: dict) -> None:
    """Defaults the real API server fills on create: namespace label and finalizer, service ports."""
    meta = obj.setdefault("metadata", {})
    if rt.gr == ("", "namespaces"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif rt.gr == ("", "services"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    elif rt.gr == ("", "pods"):
        _pod_spec_defaults(obj.setdefault("spec", {}))
    elif rt.gr in (("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets")):
        _pod_spec_defaults(((obj.get("spec") or {}).get("template") or {}).setdefault("spec", {}))
    elif rt.gr == ("apps", "deployments"):
        spec = obj.setdefault("spec", {})
        _pod_spec_defaults((spec.get("template") or {}).setdefault("spec", {}))
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {}).setdefault("type", "RollingUpdate")
    elif rt.gr == ("", "secrets"):
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):  # the API server folds stringData into data, base64-encoded
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()


def keep_allocated(rt: ResourceType, new: dict, old: dict) -> None:
    """On update, keep what the cluster allocated (a Service's clusterIP and nodePorts) when omitted."""
    if rt.gr != ("", "services") or not isinstance(new.get("spec"), dict):
        return
    spec, before = new["spec"], old.get("spec") or {}
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if field in before and field not in spec:
            spec[field] = before[field]
    old_ports = {p.get("port"): p.get("nodePort") for p in before.get("ports") or [] if isinstance(p, dict)}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort") and old_ports.get(port.get("port")):
                port["nodePort"] = old_ports[port.get("port")]


def _pod_spec_defaults(spec: dict) -> None:
    """Container defaults kubectl describe and get show: port protocol, image pull policy."""
    spec.setdefault("restartPolicy", "Always")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        image = str(c.get("image", ""))
        latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
        c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
        for port in c.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def review_response(rt: ResourceType, obj: dict) -> dict:
    """Answer for the authorization/authentication review kinds: everything is allowed."""
    out = dict(obj)
    if rt.kind in ("SelfSubjectAccessReview", "SubjectAccessReview"):
        out["status"] = {"allowed": True, "reason": "the sandbox allows every request"}
    elif rt.kind == "SelfSubjectRulesReview":
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    elif rt.kind == "SelfSubjectReview":
        out["status"] = {"userInfo": {"username": "sandbox-user",
                                      "groups": ["system:masters", "system:authenticated"]}}
    return out


def event_to_events_v1(ev: dict) -> dict:
    """A core/v1 Event as events.k8s.io/v1 shows it (they share storage)."""
    out = {k: v for k, v in ev.items() if k not in ("involvedObject", "message", "source", "count",
                                                   "firstTimestamp", "lastTimestamp")}
    out.update(apiVersion="events.k8s.io/v1", kind="Event")
    if "involvedObject" in ev:
        out["regarding"] = ev["involvedObject"]
    if "message" in ev:
        out["note"] = ev["message"]
    component = (ev.get("source") or {}).get("component")
    if component:
        out.setdefault("reportingController", component)
    if ev.get("count"):
        out["deprecatedCount"] = ev["count"]
    for src, dst in (("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp")):
        if ev.get(src):
            out[dst] = ev[src]
    return out


def event_from_events_v1(ev: dict) -> dict:
    """An events.k8s.io/v1 Event in the core/v1 shape we store."""
    out = {k: v for k, v in ev.items() if k not in ("regarding", "note", "reportingController",
                                                   "deprecatedCount")}
    out.update(apiVersion="v1", kind="Event")
    if "regarding" in ev:
        out["involvedObject"] = ev["regarding"]
    if "note" in ev:
        out["message"] = ev["note"]
    if ev.get("reportingController"):
        out["source"] = {"component": ev["reportingController"]}
    return out


def scale_of(obj: dict) -> dict:
    """The autoscaling/v1 Scale view of a Deployment/ReplicaSet/StatefulSet."""
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    labels = ((spec.get("selector") or {}).get("matchLabels") or {})
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": spec.get("replicas", 1)},
            "status": {"replicas": status.get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in labels.items())}}


def _is_str_map(value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _check_type(causes: list, path: str, value, want: type, text: str) -> None:
    if value is not None and not (isinstance(value, want) and not (want is int and isinstance(value, bool))):
        causes.append((path, f"Invalid value: {value!r}: {path} must be {text}"))


def validate_shape(rt: ResourceType, obj: dict) -> list[tuple[str, str]]:
    """Field-type checks the real API server's decoder makes, for the fields our code reads."""
    causes: list[tuple[str, str]] = []
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [("metadata", "Invalid value: metadata must be an object")]
    _check_type(causes, "metadata.name", meta.get("name"), str, "a string")
    _check_type(causes, "metadata.namespace", meta.get("namespace"), str, "a string")
    for field in ("labels", "annotations"):
        if meta.get(field) is not None and not _is_str_map(meta[field]):
            causes.append((f"metadata.{field}", f"Invalid value: metadata.{field} must map strings to strings"))
    fins = meta.get("finalizers")
    if fins is not None and not (isinstance(fins, list) and all(isinstance(f, str) for f in fins)):
        causes.append(("metadata.finalizers", "Invalid value: metadata.finalizers must be a list of strings"))
    refs = meta.get("ownerReferences")
    if refs is not None and not (isinstance(refs, list) and all(isinstance(r, dict) for r in refs)):
        causes.append(("metadata.ownerReferences", "Invalid value: ownerReferences must be a list of objects"))
    for field in ("spec", "status"):
        _check_type(causes, field, obj.get(field), dict, "an object")
    if rt.gr in (("", "configmaps"), ("", "secrets")) and obj.get("data") is not None and not _is_str_map(obj["data"]):
        causes.append(("data", "Invalid value: data must map strings to strings"))
    if not causes and rt.gr == CRDS:
        return _crd_shape(obj)
    if not causes and not rt.crd:
        _spec_shape(obj.get("spec") or {}, causes)
    return causes


def _crd_shape(obj: dict) -> list[tuple[str, str]]:
    """What a CustomResourceDefinition needs before its kind can be served."""
    spec = obj.get("spec") or {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    causes = []
    for path, value in (("spec.group", spec.get("group")), ("spec.names.plural", names.get("plural")),
                        ("spec.names.kind", names.get("kind"))):
        if not isinstance(value, str) or not value:
            causes.append((path, "Required value"))
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions or not all(
            isinstance(v, dict) and isinstance(v.get("name"), str) for v in versions):
        causes.append(("spec.versions", "Required value: a list of versions, each with a name"))
    elif not any(v.get("storage") for v in versions):
        causes.append(("spec.versions", "Invalid value: must have exactly one version marked as storage version"))
    if not causes and obj.get("metadata", {}).get("name") != f"{names['plural']}.{spec['group']}":
        causes.append(("metadata.name", f'Invalid value: must be spec.names.plural+"."+spec.group '
                                        f'("{names["plural"]}.{spec["group"]}")'))
    return causes


def crd_update_causes(new: dict, old: dict) -> list[tuple[str, str]]:
    """A CRD update must keep every version objects may still be stored at (status.storedVersions)."""
    stored = (old.get("status") or {}).get("storedVersions") or []
    names = {v.get("name") for v in (new.get("spec") or {}).get("versions") or [] if isinstance(v, dict)}
    return [(f"status.storedVersions[{n}]", f'Invalid value: "{v}": must appear in spec.versions')
            for n, v in enumerate(stored) if v not in names]


def _spec_shape(spec: dict, causes: list) -> None:
    _check_type(causes, "spec.replicas", spec.get("replicas"), int, "an integer")
    _check_type(causes, "spec.selector", spec.get("selector"), dict, "an object")
    _check_type(causes, "spec.template", spec.get("template"), dict, "an object")
    pod = spec.get("template", {}).get("spec") if isinstance(spec.get("template"), dict) else spec
    prefix = "spec.template.spec" if pod is not spec else "spec"
    if not isinstance(pod, dict):
        causes.append((prefix, "Invalid value: must be an object"))
        return
    for field in ("containers", "initContainers", "ports", "volumes"):
        items = pod.get(field)
        if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
            causes.append((f"{prefix}.{field}", f"Invalid value: {field} must be a list of objects"))
    for n, c in enumerate(pod.get("containers") or [] if not causes else []):
        for field in ("ports", "env", "volumeMounts"):
            items = c.get(field)
            if items is not None and not (isinstance(items, list) and all(isinstance(i, dict) for i in items)):
                causes.append((f"{prefix}.containers[{n}].{field}", f"Invalid value: {field} must be a list of objects"))
