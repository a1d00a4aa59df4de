"""Simulated Istio 1.27 for the sandbox: istiod's Gateway API controllers and CRD validation.

Wiring: `controllers()` returns the controller classes a SandboxCluster adds to its runtime
(it also registers the Gateway API admission validators, once).
"""

from __future__ import annotations

_registered = False


def register_admission() -> bool:
    """Register the Gateway API CEL-rule validators with the API server's admission hooks."""
    global _registered
    if _registered:
        return True
    try:
        from tutorial.sandbox import admission
    except ImportError:
        return False
    from tutorial.sandbox.istio.validation import VALIDATORS

    for gr, fn in VALIDATORS.items():
        admission.register_validator(gr, fn)
    _registered = True
    return True


def controllers() -> list[type]:
    """Controller classes for the runtime: the simulated istiod and the gateway data plane.

    The data plane controller holds listening sockets: call its `close()` when the cluster stops.
    """
    from tutorial.sandbox.dataplane import DataPlaneController
    from tutorial.sandbox.istio.controller import IstiodController

    register_admission()
    return [IstiodController, DataPlaneController]
