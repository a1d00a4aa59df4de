"""The pod watch beside a Deployment check: the Deployment only says "not available yet"; its pods
say why (an image that cannot be pulled, a crash loop, no node with room), and that settles it."""

from __future__ import annotations

import threading

from tutorial.cluster.client import ClusterError


class pod_sentinel:
    """While a Deployment check waits, watch the namespace's pods too: a pod that cannot pull its
    image, crash-loops or cannot be scheduled settles the check (the Deployment itself only says
    "not available yet")."""

    def __init__(self, ctx, namespace: str, selector: str | None, timeout: float):
        self.ctx, self.namespace, self.selector, self.timeout = ctx, namespace, selector, timeout
        self.thread: threading.Thread | None = None

    def __enter__(self):
        # A check that looks once (timeout 0: status, "is this step already done?") does not wait,
        # so there is nothing to watch beside it: the pods' look would only race the Deployment's
        # (and cost a list and a thread per check; explanations gather the pods themselves).
        if self.ctx.watch is not None and self.timeout > 0:
            self.thread = threading.Thread(target=self._follow, name="check-pods", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        if self.thread is not None:
            self.ctx.watch.stop.set()
            self.thread.join(timeout=3)

    def _follow(self) -> None:
        watch = self.ctx.watch

        def judge(pods: list[dict]) -> bool:
            deployments = watch.items()
            mine = [p for p in pods if _owned(p, deployments)]
            watch.note_pods(mine)
            why = watch.pods_settled(mine, deployments)
            if why:
                watch.settle(why)
            return why is not None

        try:
            self.ctx.client.wait_for(self.ctx.client.resource("v1", "Pod"), self.namespace, judge,
                                     timeout=self.timeout, label_selector=self.selector, cancel=watch.stop)
        except ClusterError:
            pass  # the main wait reports the cluster's trouble


def _owned(pod: dict, deployments: list[dict]) -> bool:
    """The pod matches one of the judged Deployments' selectors (any pod while none is known yet)."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    selectors = [((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {} for d in deployments
                 if d.get("kind", "Deployment") == "Deployment"]
    return not selectors or any(s and all(labels.get(k) == v for k, v in s.items()) for s in selectors)
