"""Files the lessons fetch from the network, served locally when the sandbox is the target.

`resolve_url(url)` maps a known download URL (the Gateway API v1.3.0 standard-install.yaml) to
a bundled file, so `kubectl apply -f <url>` can run against the sandbox without network access.
"""

from __future__ import annotations

from pathlib import Path

GATEWAY_API_URL = ("https://github.com/kubernetes-sigs/gateway-api/releases/download/"
                   "v1.3.0/standard-install.yaml")
GATEWAY_API_FILE = "gateway-api-v1.3.0-standard-install.yaml"

_HERE = Path(__file__).resolve().parent
_URLS = {GATEWAY_API_URL: GATEWAY_API_FILE}


def gateway_api_bundle() -> Path:
    """The Gateway API v1.3.0 standard install file as a plain file kubectl can read.

    The package ships it compressed; the uncompressed copy lives in the state directory and is
    rewritten (atomically: several sandboxes may start at once) when missing or different.
    """
    import os

    from tutorial.paths import state_dir
    from tutorial.sandbox.bundles.gateway_api import text

    data = text().encode("utf-8")
    path = state_dir() / "sandbox" / "bundles" / GATEWAY_API_FILE
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def resolve_url(url: str) -> Path | None:
    """The local file standing in for url, or None when we bundle nothing for it."""
    name = _URLS.get(url.strip())
    if name is None:
        return None
    if name == GATEWAY_API_FILE:
        return gateway_api_bundle()
    return _HERE / name
