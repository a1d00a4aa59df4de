"""Which containers run to completion: the kubelet's answer to "does this process exit?".

The sandbox runs no processes, so it judges from the pod: a pod that may finish (restartPolicy
Never or OnFailure) whose containers are tools (busybox, curl, alpine, ...) rather than servers, and
whose command does not obviously wait forever (`sleep 3600`, `sleep infinity`, `tail -f`), exits 0
after a moment: phase Succeeded, containers terminated with reason Completed. Servers keep running.
"""

from __future__ import annotations

import re

from tutorial.sandbox.kubelet.images import reference

TOOL_IMAGES = ("library/busybox", "curlimages/curl", "library/alpine", "library/ubuntu", "library/debian",
               "library/hello-world", "e2e-test-images/busybox")
_LONG_WAIT = re.compile(r"\bsleep\s+(infinity|\d{2,}|[6-9])\b|\btail\s+-f\b|\bwhile\s+true\b")


def finishes(pod: dict) -> bool:
    """True when every container of the pod would exit by itself (and the pod may stop)."""
    spec = pod.get("spec") or {}
    if spec.get("restartPolicy", "Always") == "Always":
        return False
    containers = spec.get("containers") or []
    return bool(containers) and all(_container_finishes(c) for c in containers)


def _container_finishes(container: dict) -> bool:
    # an interactive shell (`kubectl run -it`) would wait for its user, but attach is not simulated:
    # nobody can attach, so its stdin closes and the shell exits, as when a real session ends
    _, path, _ = reference(container.get("image", ""))
    if not path.endswith(TOOL_IMAGES):
        return False
    if container.get("ports") or any(container.get(p) for p in ("readinessProbe", "livenessProbe", "startupProbe")):
        return False  # it serves something: a server does not exit by itself
    line = " ".join(str(a) for a in (container.get("command") or []) + (container.get("args") or []))
    return not _LONG_WAIT.search(line)


_FINAL_EXIT = re.compile(r"(?:^|[;&\n])\s*exit\s+(\d+)\s*;?\s*$")


def exit_code(pod: dict) -> int:
    """The exit code of a finishing pod: an explicit final `exit N` or `false`, else 0."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        if argv[:1] in (["false"], ["/bin/false"]):
            return 1
        if len(argv) >= 3 and argv[1] == "-c":
            match = _FINAL_EXIT.search(argv[2])
            if match and int(match.group(1)) != 0:
                return int(match.group(1))
    return 0
