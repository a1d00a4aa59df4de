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


# -- aggregated discovery (apidiscovery.k8s.io/v2, GA in Kubernetes 1.30) -------------------------
# kubectl 1.32 asks /api and /apis for it first; answered, its discovery is those two requests
# instead of one more per group/version (each a TLS connection of its own over HTTP/1.1).

AGGREGATED_VERSIONS = ("v2", "v2beta1")  # what a 1.32 API server serves, preferred first


def aggregated_version(accept: str) -> str | None:
    """The apidiscovery version the Accept header asks for ('v2', 'v2beta1'), or None for the
    classic documents. Ranges are taken in the client's order, as the API server's negotiation does."""
    for media_range in (accept or "").split(","):
        kind, *params = [p.strip() for p in media_range.split(";")]
        if kind not in ("application/json", "*/*", "application/*"):
            continue
        values = dict(p.split("=", 1) for p in params if "=" in p)
        if values.get("g") == "apidiscovery.k8s.io" and values.get("as") == "APIGroupDiscoveryList":
            if values.get("v") in AGGREGATED_VERSIONS:
                return values["v"]
        elif kind == "application/json" and not values.get("as"):
            return None  # plain JSON comes first in the client's order
    return None


def aggregated_content_type(version: str) -> str:
    return f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


def aggregated_list(registry: Registry, core: bool, version: str = "v2") -> dict:
    """The APIGroupDiscoveryList of /api (core: the legacy group, named "") or /apis (every other group,
    each with its versions in preference order and every resource of each version)."""
    if core:
        groups = [("", ["v1"])]
    else:
        groups = [(g, sorted_versions(vs)) for g, vs in sorted(registry.group_versions().items()) if g]
    items = [{"metadata": {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None},
              "versions": [_version_discovery(registry, group, v) for v in versions]}
             for group, versions in groups]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": items}


def _version_discovery(registry: Registry, group: str, version: str) -> dict:
    types = sorted(registry.in_group_version(group, version), key=lambda rt: rt.plural)
    return {"version": version, "resources": [_resource_discovery(rt) for rt in types], "freshness": "Current"}


def _resource_discovery(rt: ResourceType) -> dict:
    # responseKind's group and version are empty when they are the resource's own (as the API
    # server writes them); a subresource of another kind (scale: autoscaling/v1 Scale) names its own.
    entry = {"resource": rt.plural, "responseKind": {"group": "", "version": "", "kind": rt.kind},
             "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
             "verbs": list(rt.verbs)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subs = []
    for sub in rt.subresources:
        kind, group, version, verbs = SUBRESOURCES.get(sub, ("", "", "", ["get"]))
        subs.append({"subresource": sub, "responseKind": {"group": group, "version": version, "kind": kind or rt.kind},
                     "verbs": list(verbs)})
    if subs:
        entry["subresources"] = subs
    return entry
