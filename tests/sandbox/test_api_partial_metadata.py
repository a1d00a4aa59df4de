"""Lists asked for as PartialObjectMetadataList (the journal's snapshots) carry each object's whole
metadata and nothing else, page and filter as other lists do; a plain list still has everything."""

from __future__ import annotations

import json

from tutorial.sandbox.bundles import gateway_api

META = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _get(api, path: str, accept: str = "application/json") -> dict:
    conn = api.connection()
    try:
        conn.request("GET", path, headers={**api.auth_headers(), "Accept": accept})
        resp = conn.getresponse()
        assert resp.status == 200
        return json.loads(resp.read())
    finally:
        conn.close()


def test_metadata_lists_hold_only_metadata_and_page_like_other_lists(api):
    api.kubectl("apply", "-f", "-", input=gateway_api.text())
    api.kubectl("label", "crd", "gateways.gateway.networking.k8s.io", "team=web")
    full = _get(api, CRDS)
    meta = _get(api, CRDS, META)
    assert meta["kind"] == "PartialObjectMetadataList" and meta["apiVersion"] == "meta.k8s.io/v1"
    assert [i["metadata"] for i in meta["items"]] == [i["metadata"] for i in full["items"]]
    assert all(set(i) == {"kind", "apiVersion", "metadata"} and i["kind"] == "PartialObjectMetadata"
               for i in meta["items"])
    assert all("spec" in i for i in full["items"]) and full["kind"] == "CustomResourceDefinitionList"

    first = _get(api, CRDS + "?limit=2", META)
    rest = _get(api, CRDS + "?limit=100&continue=" + first["metadata"]["continue"], META)
    assert [i["metadata"]["name"] for i in first["items"] + rest["items"]] == [i["metadata"]["name"]
                                                                                 for i in full["items"]]
    labelled = _get(api, CRDS + "?labelSelector=team%3Dweb", META)
    assert [i["metadata"]["name"] for i in labelled["items"]] == ["gateways.gateway.networking.k8s.io"]
    named = _get(api, CRDS + "?fieldSelector=metadata.name%3Dhttproutes.gateway.networking.k8s.io", META)
    assert [i["metadata"]["uid"] for i in named["items"]] == [i["metadata"]["uid"] for i in full["items"]
                                                             if i["metadata"]["name"].startswith("httproutes.")]
