"""The API server's schema and validation layer: what a real v1.32 API server checks on every write.

Owns: the Kubernetes 1.32 OpenAPI definitions of the built-in kinds (shipped compressed in data/,
served as /openapi/v3 documents so `kubectl explain` works), field validation against them
(fieldValidation Strict / Warn / Ignore: unknown and duplicate fields, wrong types), the CRDs'
`x-kubernetes-validations` evaluated with a real CEL engine plus Kubernetes' CEL extensions and
libraries (compiled and costed when the CRD is written, cost-limited when run), and
ValidatingAdmissionPolicy / ValidatingAdmissionPolicyBinding enforcement with the same engine.
Every refusal uses the real API server's words. The REST write path (rest_write.py) and the
admission chain (admission.py) call in here through small hooks; nothing here imports them.
"""
