"""Cluster access: kubeconfig resolution (pure Python, cheap to import)."""
