"""Simulated Istio 1.27 for the sandbox: istiod's Gateway API controllers.

Wiring: `controllers()` returns the controller classes a SandboxCluster adds to its runtime.
The Gateway API CRDs' own CEL rules are enforced by the API server (tutorial/sandbox/api/validation).
"""

from __future__ import annotations


def controllers() -> list[type]:
    """Controller classes for the runtime: the simulated istiod and the gateway data plane.

    The data plane controller holds listening sockets: call its `close()` when the cluster stops.
    """
    from tutorial.sandbox.dataplane.proxy import DataPlaneController
    from tutorial.sandbox.istio.controller import IstiodController

    return [IstiodController, DataPlaneController]
