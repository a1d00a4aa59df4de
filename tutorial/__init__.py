"""gateway-tutorial: an interactive terminal tutorial for the Gateway API and Istio."""

__version__ = "0.1.0"
