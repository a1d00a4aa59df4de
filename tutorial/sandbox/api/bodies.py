"""Request bodies as JSON data: JSON, YAML or protobuf, refused in the real server's words past its limits.

The limits themselves (size, alias expansion, nesting) are checked by requestcheck.py.
"""

from __future__ import annotations

import json

import yaml

from tutorial.lessons.safeyaml import JsonishLoader, Limits
from tutorial.sandbox.api import protobuf, requestcheck
from tutorial.sandbox.api.apirequest import ApiError, Request


class _JsonishLoader(JsonishLoader):
    """The bounded loader (safeyaml.py), noting whether the body used aliases at all.

    Its caps are a backstop set above the API server's own limits, so that requestcheck.py answers
    first, in the real server's words ("excessive aliasing", "exceeded max depth").
    """

    limits = Limits(alias_nodes=10**12, alias_chars=10**15, depth=1000)  # the walk in requestcheck bounds the work
    anchors_seen = False

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.anchors_seen = True  # aliases expand when copied: the expanded size is checked
        return super().compose_node(parent, index)


def decode_body(req: Request) -> object:
    """The request body as JSON data, whatever the content type; raises 400/415."""
    ctype = (req.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
    if ctype == "application/vnd.kubernetes.protobuf":
        try:
            return protobuf.decode(req.body)
        except protobuf.ProtobufError as e:
            raise ApiError(415, "UnsupportedMediaType", str(e)) from None
    text = req.body.decode("utf-8", errors="replace")
    try:
        if ctype in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
            data = _load_yaml(text, req)
        elif ctype.startswith("application/") and ctype.endswith("json"):
            try:
                data = json.loads(text)
            except RecursionError:
                raise requestcheck.too_deep(req.rt.kind, req.body) from None
            requestcheck.check_depth(data, req.rt.kind, req.body)
        else:
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: '
                           f'application/json, application/yaml, application/vnd.kubernetes.protobuf (got "{ctype}")')
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ApiError(400, "BadRequest", f"the request body is not valid JSON or YAML: {e}") from None
    except RecursionError:
        raise ApiError(400, "BadRequest", "the request body is nested too deeply") from None
    return data


def _load_yaml(text: str, req: Request) -> object:
    """YAML as JSON data, refusing excessive alias expansion and nesting before building anything."""
    loader = _JsonishLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:  # deeper than Python composes: past the server's depth limit anyway
            raise requestcheck.too_deep(req.rt.kind, req.body) from None
        requestcheck.check_yaml_node(node, req.rt.kind, req.body)
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    if loader.anchors_seen and len(json.dumps(data, separators=(",", ":"))) > requestcheck.MAX_BODY_BYTES:
        raise requestcheck.too_large()
    return data


def object_body(req: Request) -> dict:
    """The request body as one Kubernetes object; 400 when it is anything else."""
    data = decode_body(req)
    if not isinstance(data, dict):
        raise ApiError(400, "BadRequest", "the request body must be a JSON object (a Kubernetes resource)")
    if not isinstance(data.get("metadata", {}), dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    return data
