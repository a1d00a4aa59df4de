"""Loopback Kubernetes sandbox: an API server real kubectl accepts, plus simulated controllers.

Never imports textual; see docs/sandbox-design.md for the module map and interfaces.
"""
