"""Cost of the schema and validation layer per write, against the whole write over HTTP.

1. A Deployment create: field validation against the Kubernetes 1.32 schema (validation/writes.py)
   vs the whole POST answered by the sandbox API server, in the same run.
2. An HTTPRoute create: CRD schema checks + every CEL rule of the upstream v1.3.0 CRD
   (validation/crdschema.py) vs the whole POST. The first evaluation compiles the rules; the
   figure is for the warm case every later write sees, and the one-off compile is printed too.
"""

from __future__ import annotations

import copy
import http.client
import json
import time

from run import Figure

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                         "ports": [{"containerPort": 80}],
                                                         "env": [{"name": "A", "value": "b"}]}]}}}}
ROUTE = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"namespace": "default"},
         "spec": {"parentRefs": [{"name": "gw", "sectionName": "http"}],
                  "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}},
                                         {"path": {"type": "Exact", "value": "/login"}}],
                             "filters": [{"type": "RequestHeaderModifier",
                                          "requestHeaderModifier": {"set": [{"name": "x", "value": "y"}]}}],
                             "backendRefs": [{"name": "web", "port": 8080}]}]}}


def _post(host: str, port: int, path: str, obj: dict) -> float:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    t0 = time.perf_counter()
    conn.request("POST", path + "?fieldValidation=Strict", json.dumps(obj), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - t0
    conn.close()
    if resp.status != 201:
        raise SystemExit(f"bench write refused: {resp.status}")
    return elapsed


def measure(runs: int) -> list[Figure]:
    from tutorial.sandbox.api.admission import apply_defaults, crd_schema, validate_schema
    from tutorial.sandbox.bundles.gateway_api import crds
    from tutorial.sandbox.api.resources import CRDS, Registry
    from tutorial.sandbox.api.server import ApiServer
    from tutorial.sandbox.storage.store import Store
    from tutorial.sandbox.api.validation import crdschema, writes

    store = Store()
    server = ApiServer(store, Registry.builtin(), port=0).start()
    host, port = server.host, server.port
    try:
        for crd in crds():
            _post(host, port, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        time.sleep(0.3)  # the CRDs become served
        schema = crd_schema(store, ("gateway.networking.k8s.io", "httproutes"), "gateway.networking.k8s.io/v1")
        route = apply_defaults(copy.deepcopy(ROUTE), schema)
        t0 = time.perf_counter()
        crdschema.crd_causes(schema, route, None, validate_schema(route, schema))
        compile_once = time.perf_counter() - t0
        n = max(20, runs * 10)
        ours_b, whole_b, ours_c, whole_c = [], [], [], []
        for i in range(n):
            deploy = dict(copy.deepcopy(DEPLOY), metadata={"name": f"d{i}", "namespace": "default"})
            t0 = time.perf_counter()
            writes.check_builtin("apps", "v1", "Deployment", copy.deepcopy(deploy), json.dumps(deploy).encode(),
                                 "Strict", None)
            ours_b.append(time.perf_counter() - t0)
            whole_b.append(_post(host, port, "/apis/apps/v1/namespaces/default/deployments", deploy))
            obj = dict(copy.deepcopy(ROUTE), metadata={"name": f"r{i}", "namespace": "default"})
            checked = apply_defaults(copy.deepcopy(obj), schema)
            t0 = time.perf_counter()
            crdschema.crd_causes(schema, checked, None, validate_schema(checked, schema))
            ours_c.append(time.perf_counter() - t0)
            whole_c.append(_post(host, port, "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes", obj))
    finally:
        server.stop()
    print(f"one-off compile of the HTTPRoute CEL rules (first write): {compile_once * 1000:.1f} ms; "
          f"CRDs in the store: {len(store.list(CRDS)[0])}")
    return [
        Figure("Deployment create: field validation (1.32 schema)", ours_b, "whole create over HTTP", whole_b),
        Figure("HTTPRoute create: schema checks + all CEL rules (warm)", ours_c, "whole create over HTTP", whole_c),
    ]
