"""Loopback Kubernetes sandbox: an API server real kubectl accepts, plus simulated controllers.

Laid out as a small Kubernetes: api/ (the kube-apiserver), storage/ (its etcd), controllers/ (the
controller-manager and its runtime), kubelet/ (what the node answers), istio/ (istiod and Envoy),
dataplane/ (loopback addresses and gateway listeners). The host process that assembles them stays
at this level: cluster.py (one cluster), serve.py and embedded.py (the processes that run them),
kubeconfig.py, tlscert.py, faults.py; simtools/ and bundles/ are simulated CLIs and upstream data.
Never imports textual; see docs/sandbox-design.md for the module map and interfaces.
"""
