"""A small catalogue of images the simulated kubelet can pull; anything else fails as a real pull would.

A real node pulls only what its registry has. The sandbox ships the images the lessons use
(Emojivoto v11, Istio's pilot/proxyv2 and friends), common public ones (nginx, busybox, curl, ...)
and their usual tags; any other reference gets the registry's real answer through containerd:
an unknown host -> "no such host", an unknown repository -> "pull access denied", an unknown tag
-> "not found". The kubelet then shows ErrImagePull and ImagePullBackOff as on a real node.
"""

from __future__ import annotations

import re

_SEMVER = r"v?\d+(\.\d+){0,2}"
_ISTIO_TAGS = r"1\.(1\d|2\d)\.\d+(-(distroless|debug))?|latest"
# repository (as containerd names it) -> regex its known tags match
CATALOGUE: dict[str, str] = {
    "docker.l5d.io/buoyantio/emojivoto-web": r"v(8|9|10|11|12)",
    "docker.l5d.io/buoyantio/emojivoto-emoji-svc": r"v(8|9|10|11|12)",
    "docker.l5d.io/buoyantio/emojivoto-voting-svc": r"v(8|9|10|11|12)",
    "docker.io/buoyantio/emojivoto-web": r"v(8|9|10|11|12)",
    "docker.io/buoyantio/emojivoto-emoji-svc": r"v(8|9|10|11|12)",
    "docker.io/buoyantio/emojivoto-voting-svc": r"v(8|9|10|11|12)",
    "docker.io/istio/pilot": _ISTIO_TAGS,
    "docker.io/istio/proxyv2": _ISTIO_TAGS,
    "docker.io/istio/install-cni": _ISTIO_TAGS,
    "docker.io/istio/ztunnel": _ISTIO_TAGS,
    "gcr.io/istio-release/pilot": _ISTIO_TAGS,
    "gcr.io/istio-release/proxyv2": _ISTIO_TAGS,
    "docker.io/library/nginx": rf"latest|stable|mainline|alpine|1\.(1\d|2\d)(\.\d+)?(-alpine|-perl|-bookworm)?",
    "docker.io/library/busybox": r"latest|stable|musl|glibc|uclibc|1\.(2\d|3\d)(\.\d+)?(-(musl|glibc|uclibc))?",
    "docker.io/curlimages/curl": rf"latest|{_SEMVER}",
    "docker.io/library/alpine": rf"latest|edge|3\.\d+(\.\d+)?",
    "docker.io/library/ubuntu": r"latest|rolling|\d\d\.(04|10)|noble|jammy|focal",
    "docker.io/library/debian": r"latest|stable|bookworm|bullseye|trixie|(bookworm|bullseye)-slim|1[0-3](\.\d+)?",
    "docker.io/library/python": r"latest|3(\.\d+)*(-(slim|alpine|bookworm|slim-bookworm))?",
    "docker.io/library/httpd": rf"latest|alpine|2\.4(\.\d+)?(-alpine)?",
    "docker.io/library/redis": rf"latest|alpine|[5-8](\.\d+)*(-alpine)?",
    "docker.io/library/hello-world": r"latest|linux",
    "docker.io/kennethreitz/httpbin": r"latest",
    "docker.io/mccutchen/go-httpbin": rf"latest|{_SEMVER}",
    "registry.k8s.io/pause": r"3\.\d+|latest",
    "registry.k8s.io/coredns/coredns": r"v1\.\d+\.\d+",
    "registry.k8s.io/e2e-test-images/agnhost": r"2\.\d+",
    "registry.k8s.io/e2e-test-images/busybox": r"1\.\d+(\.\d+)?(-\d+)?",
    "registry.k8s.io/e2e-test-images/nginx": r"1\.\d+(-\d+)?",
    "ghcr.io/stefanprodan/podinfo": rf"latest|{_SEMVER}",
    # the Gateway API conformance suite's echo server (its v1.3.0 manifests pin this tag)
    "gcr.io/k8s-staging-gateway-api/echo-basic": r"v\d{8}-v\d+\.\d+\.\d+(-\d+-g[0-9a-f]+)?",
}
# registries that answer (a host outside this list does not resolve from the simulated node)
REGISTRIES = {"docker.io", "docker.l5d.io", "gcr.io", "registry.k8s.io", "k8s.gcr.io", "quay.io", "ghcr.io",
              "mcr.microsoft.com", "public.ecr.aws", "registry.gitlab.com", "localhost"}


def reference(image: str) -> tuple[str, str, str]:
    """(host, repository path, tag or digest) as containerd resolves a reference: nginx -> docker.io/library/nginx:latest."""
    name, at, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = ""
    if ":" in last:
        name, _, tag = name.rpartition(":")
    first = name.split("/", 1)[0]
    if "/" not in name:
        host, path = "docker.io", f"library/{name}"
    elif "." in first or ":" in first or first == "localhost":
        host, path = name.split("/", 1)
    else:
        host, path = "docker.io", name
    return host, path, (f"@{digest}" if at else (tag or "latest"))


def full_name(image: str) -> str:
    host, path, tag = reference(image)
    return f"{host}/{path}{tag if tag.startswith('@') else ':' + tag}"


def known(image: str) -> bool:
    """True when the catalogue has this image (a digest of a known repository counts)."""
    if not image or image != image.strip():
        return False
    host, path, tag = reference(image)
    pattern = CATALOGUE.get(f"{host}/{path}")
    if pattern is None:
        return False
    return tag.startswith("@sha256:") or re.fullmatch(pattern, tag) is not None


def registry_answer(image: str) -> str:
    """The error containerd reports to the kubelet for a pull of an image the catalogue lacks."""
    host, path, tag = reference(image)
    ref = full_name(image)
    resolve = f'failed to pull and unpack image "{ref}": failed to resolve reference "{ref}"'
    if host not in REGISTRIES:
        return (f"rpc error: code = Unknown desc = {resolve}: failed to do request: Head "
                f'"https://{host}/v2/{path}/manifests/{tag.lstrip("@")}": dial tcp: lookup {host}: no such host')
    if f"{host}/{path}" in CATALOGUE:
        return f"rpc error: code = NotFound desc = {resolve}: {ref}: not found"
    return (f"rpc error: code = Unknown desc = {resolve}: pull access denied, repository does not exist or "
            "may require authorization: server message: insufficient_scope: authorization failed")
