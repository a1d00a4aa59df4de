"""The upstream Gateway API v1.3.0 standard CRDs, shipped compressed (see README.md beside this file).

`text()` is the install file as released; `crds()` its CustomResourceDefinition objects (parsed once).
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

GROUP = "gateway.networking.k8s.io"
BUNDLE_VERSION = "v1.3.0"
COMPRESSED = Path(__file__).resolve().parent / "gateway-api-v1.3.0-standard-install.yaml.gz"


@functools.lru_cache(maxsize=1)
def text() -> str:
    """The standard-install.yaml of Gateway API v1.3.0, byte for byte."""
    return gzip.decompress(COMPRESSED.read_bytes()).decode("utf-8")


@functools.lru_cache(maxsize=1)
def _parsed() -> tuple[dict, ...]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(doc for doc in yaml.load_all(text(), Loader=loader) if doc)


def crds() -> list[dict]:
    """The five CRDs (fresh copies: callers may change them)."""
    import copy

    return copy.deepcopy(list(_parsed()))


def render_yaml() -> str:
    """The bundle as one multi-document YAML file (the upstream text itself)."""
    return text()
