"""Simulated controllers of a sandbox cluster; `default_controllers()` lists the ones it runs."""

from __future__ import annotations

import importlib
import importlib.util


def default_controllers() -> list[type]:
    """Controller classes every sandbox cluster runs: the core ones, then part 2's (Istio) when present."""
    from tutorial.sandbox.controllers.core import CORE_CONTROLLERS

    controllers = list(CORE_CONTROLLERS)
    # Part 2 (Istio, Gateway API) lives in tutorial/sandbox/istio/controllers.py and lists its
    # classes in CONTROLLERS; a missing module is fine, a broken one must fail loudly.
    if importlib.util.find_spec("tutorial.sandbox.istio") is None or \
            importlib.util.find_spec("tutorial.sandbox.istio.controllers") is None:
        return controllers
    istio = importlib.import_module("tutorial.sandbox.istio.controllers")
    extra = getattr(istio, "CONTROLLERS", None) or getattr(istio, "default_controllers", lambda: [])()
    return controllers + list(extra)
