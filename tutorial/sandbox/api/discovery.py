"""Discovery documents: /version, /api, /apis, /api/v1 and /apis/GROUP/VERSION."""

from __future__ import annotations

import re

from tutorial.sandbox.api.resources import Registry, ResourceType

VERSION_INFO = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "sandbox",
    "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3",
    "compiler": "gc", "platform": "linux/amd64",
}

# subresource -> (kind, group, version, verbs); "" means "same as the parent".
SUBRESOURCES = {
    "status": ("", "", "", ["get", "patch", "update"]),
    "scale": ("Scale", "autoscaling", "v1", ["get", "patch", "update"]),
    "log": ("Pod", "", "", ["get"]),
    "exec": ("PodExecOptions", "", "", ["create", "get"]),
    "attach": ("PodAttachOptions", "", "", ["create", "get"]),
    "portforward": ("PodPortForwardOptions", "", "", ["create", "get"]),
    "eviction": ("Eviction", "policy", "v1", ["create"]),
    "finalize": ("", "", "", ["update"]),
    "token": ("TokenRequest", "authentication.k8s.io", "v1", ["create"]),
    "proxy": ("", "", "", ["create", "delete", "get", "patch", "update"]),
}


def version_priority(version: str) -> tuple:
    """Sort key putting versions in Kubernetes preference order: v2 > v1 > v1beta2 > v1beta1 > v1alpha1."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)


def sorted_versions(versions: list[str]) -> list[str]:
    return sorted(versions, key=version_priority)


def api_versions(host: str) -> dict:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}


def api_group(group: str, versions: list[str]) -> dict:
    ordered = sorted_versions(versions)
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in ordered]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict:
    groups = [api_group(g, vs) for g, vs in sorted(registry.group_versions().items()) if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def _resource_entry(rt: ResourceType) -> dict:
    entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
             "kind": rt.kind, "verbs": list(rt.verbs)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, sub: str) -> dict:
    kind, group, version, verbs = SUBRESOURCES.get(sub, ("", "", "", ["get"]))
    entry = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
             "kind": kind or rt.kind, "verbs": verbs}
    if group:
        entry.update(group=group, version=version)
    return entry


def api_resource_list(registry: Registry, group: str, version: str) -> dict | None:
    """The APIResourceList for one group/version, or None when it is not served."""
    types = sorted(registry.in_group_version(group, version), key=lambda rt: rt.plural)
    if not types:
        return None
    resources = []
    for rt in types:
        resources.append(_resource_entry(rt))
        resources.extend(_subresource_entry(rt, s) for s in rt.subresources)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
