"""The sandbox's kube-apiserver: everything between an HTTP request and the store.

Owns the HTTP server and connection handling (server.py, handler.py), the REST verbs (rest.py;
writes in rest_write.py; watch streams in watchstream.py; exec over websockets in execws.py and
websocket.py; pod logs in podlogs.py), request parsing and limits (apirequest.py, bodies.py,
requestcheck.py, protobuf.py), the resource registry and CRD serving (resources.py, objects.py),
admission and schema/CEL validation (admission.py, validation/), object lifecycle on create and
delete (lifecycle.py), patches and server-side apply (patch.py, ssa.py), discovery, OpenAPI and
table output (discovery.py, openapi.py, tables.py, tables_workloads.py).

Direction: server.py -> handler.py -> rest*.py -> bodies.py/requestcheck.py -> apirequest.py;
nothing in this package imports the server module, and its modules import each other without
cycles (tests/test_architecture.py pins both). Below it is storage/; it never imports controllers.
"""
