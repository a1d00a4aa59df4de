"""The sandbox's kube-apiserver: everything between an HTTP request and the store.

Owns the HTTPS server and its connections (server.py), one request's handling and routing
(handler.py), the REST verbs (rest.py; writes in rest_write.py; watch streams in watchstream.py;
exec over websockets in execws.py and websocket.py, over SPDY in spdystreams.py; attach in
attach.py; port-forward in portforward.py with SPDY framing in spdy.py; pod logs in podlogs.py),
request parsing and limits (apirequest.py, bodies.py, requestcheck.py, protobuf.py), the resource
registry and CRD serving (resources.py) with each built-in kind's body behaviour (kinds.py),
admission and schema/CEL validation (admission.py, validation/), object lifecycle on create and
delete (lifecycle.py), patches and server-side apply (patch.py, ssa.py), discovery, OpenAPI and table
output (discovery.py, openapi.py, tables.py; columns in tablecells.py, tables_workloads.py).

Direction: server.py -> handler.py -> rest.py -> rest_write.py/watchstream.py/... -> bodies.py ->
requestcheck.py -> apirequest.py. Nothing in this package imports server.py and its modules import
each other without cycles (tests/test_architecture.py pins both). It stands on storage/; pod logs,
exec, attach and port-forward ask kubelet/ what the node answers.
"""
