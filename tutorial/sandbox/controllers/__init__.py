"""Simulated controllers of a sandbox cluster; `default_controllers()` lists the ones it runs."""

from __future__ import annotations

import importlib
import importlib.util


def default_controllers() -> list[type]:
    """Controller classes every sandbox cluster runs: the core ones, then part 2's (Istio) when present."""
    from tutorial.sandbox.controllers.core import CORE_CONTROLLERS

    controllers = list(CORE_CONTROLLERS)
    # Part 2 (Istio, Gateway API) offers `tutorial.sandbox.istio.controllers()`; a missing package
    # is fine (part 1 alone), a broken one must fail loudly rather than silently run without it.
    if importlib.util.find_spec("tutorial.sandbox.istio") is None:
        return controllers
    istio = importlib.import_module("tutorial.sandbox.istio")
    extra = getattr(istio, "controllers", None)
    return controllers + (list(extra()) if callable(extra) else [])
