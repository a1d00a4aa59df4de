"""Pod status documents as the kubelet writes them, for each simulated lifecycle stage."""

from __future__ import annotations

import hashlib
from typing import Callable

from tutorial.sandbox.storage import objects as st
from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.kubelet import images

NODE_IP = "172.18.0.2"

def containers(pod: dict) -> list[dict]:
    return (pod.get("spec") or {}).get("containers") or []


def _statuses(pod: dict) -> dict[str, dict]:
    return {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}


def container_state(pod: dict) -> str:
    """"none", a waiting reason (ContainerCreating, ErrImagePull, ...), "running" or "terminated"."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if not statuses:
        return "none"
    for s in statuses:
        waiting = (s.get("state") or {}).get("waiting")
        if waiting is not None:
            reason = waiting.get("reason", "ContainerCreating")
            if reason != "ContainerCreating" or all("waiting" in (x.get("state") or {}) for x in statuses):
                return reason
    if all("running" in (s.get("state") or {}) for s in statuses):
        return "running"
    return "terminated" if any("terminated" in (s.get("state") or {}) for s in statuses) else "none"


def _condition(pod: dict, type_: str) -> dict | None:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == type_), None)


def is_unschedulable(pod: dict) -> bool:
    cond = _condition(pod, "PodScheduled")
    return bool(cond) and cond.get("status") == "False" and cond.get("reason") == "Unschedulable"


def all_ready(pod: dict) -> bool:
    cond = _condition(pod, "Ready")
    return bool(cond) and cond.get("status") == "True"


def image_never_pulls(image: str) -> bool:
    """True for an image no registry has (kubelet/images.py's catalogue), e.g. the gateway chart's "auto"."""
    return not images.known(image)


def full_image(image: str) -> str:
    """docker.io/library/nginx:latest for "nginx", as containerd names images."""
    name = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else f"{image}:latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def pull_error(image: str) -> str:
    """The containerd error text the kubelet reports for a failed pull."""
    ref = full_image(image)
    if image_never_pulls(image):
        return images.registry_answer(image)
    # a known image that fails anyway (the image-pull fault): its registry is unreachable
    host, _, rest = ref.partition("/")
    repo, _, tag = rest.rpartition(":")
    return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to '
            f'resolve reference "{ref}": failed to do request: Head "https://{host}/v2/{repo}/manifests/'
            f'{tag}": dial tcp: lookup {host}: no such host')


def pulled_message(image: str) -> str:
    ms = 400 + int(hashlib.sha256(image.encode()).hexdigest()[:4], 16) % 2000
    size = 10_000_000 + int(hashlib.sha256(image.encode()).hexdigest()[4:10], 16) % 90_000_000
    return (f'Successfully pulled image "{image}" in {ms}ms ({ms}ms including waiting). '
            f"Image size: {size} bytes.")


def _base_conditions(pod: dict, now: str, ready: bool, started: bool) -> list[dict]:
    conds = list((pod.get("status") or {}).get("conditions") or [])
    names = " ".join(c.get("name", "") for c in containers(pod))
    not_ready = ("ContainersNotReady", f"containers with unready status: [{names}]")
    conds = u.set_condition(conds, "PodReadyToStartContainers", "True" if started else "False", now=now,
                            probe=True)
    conds = u.set_condition(conds, "Initialized", "True", now=now, probe=True)
    for type_ in ("Ready", "ContainersReady"):
        conds = u.set_condition(conds, type_, "True", now=now, probe=True) if ready else \
            u.set_condition(conds, type_, "False", *not_ready, now=now, probe=True)
    conds = u.set_condition(conds, "PodScheduled", "True", now=now, probe=True)
    order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    return sorted(conds, key=lambda c: order.index(c["type"]) if c["type"] in order else 9)


def unschedulable_status(pod: dict, message: str) -> dict:
    status = st.copy_json(pod.get("status") or {})
    status["phase"] = "Pending"
    status["conditions"] = [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                             "lastTransitionTime": st.now_iso(), "reason": "Unschedulable",
                             "message": message}]
    return status


def _container_status(pod: dict, c: dict, state: dict, ready: bool, started: bool) -> dict:
    old = _statuses(pod).get(c.get("name"), {})
    image = c.get("image", "")
    out = {"name": c.get("name"), "image": image, "imageID": "", "ready": ready,
           "restartCount": int(old.get("restartCount", 0)), "started": started, "state": state,
           "lastState": old.get("lastState", {})}
    if "running" in state or old.get("containerID"):
        digest = hashlib.sha256(image.encode()).hexdigest()
        out["imageID"] = f"{full_image(image).rsplit(':', 1)[0]}@sha256:{digest}"
        out["containerID"] = old.get("containerID") or \
            f"containerd://{hashlib.sha256((pod['metadata']['uid'] + c.get('name', '')).encode()).hexdigest()}"
    return out


def creating_status(pod: dict, host_ip: str) -> dict:
    now = st.now_iso()
    status = st.copy_json(pod.get("status") or {})
    status.update(phase="Pending", hostIP=host_ip, hostIPs=[{"ip": host_ip}], startTime=now,
                  conditions=_base_conditions(pod, now, ready=False, started=False))
    status["containerStatuses"] = [
        _container_status(pod, c, {"waiting": {"reason": "ContainerCreating"}}, False, False)
        for c in containers(pod)]
    return status


def waiting_status(pod: dict, reason_for: Callable[[dict], tuple[str, str] | None]) -> dict:
    """Every container waiting; reason_for(container) gives (reason, message) or None."""
    status = st.copy_json(pod.get("status") or {})
    statuses = []
    for c in containers(pod):
        found = reason_for(c)
        waiting = {"reason": found[0], "message": found[1]} if found else {"reason": "ContainerCreating"}
        statuses.append(_container_status(pod, c, {"waiting": waiting}, False, False))
    status["phase"] = "Pending"
    status["containerStatuses"] = statuses
    return status


def running_status(pod: dict, pod_ip: str, host_ip: str, ready: bool) -> dict:
    now = st.now_iso()
    status = st.copy_json(pod.get("status") or {})
    status.update(phase="Running", hostIP=host_ip, hostIPs=[{"ip": host_ip}], podIP=pod_ip,
                  podIPs=[{"ip": pod_ip}], conditions=_base_conditions(pod, now, ready, started=True))
    status.setdefault("startTime", now)
    status["containerStatuses"] = [
        _container_status(pod, c, {"running": {"startedAt": now}}, ready, True) for c in containers(pod)]
    return status


def completed_status(pod: dict, exit_code: int = 0) -> dict:
    """Every container exited: 0 -> Succeeded/Completed, else Failed/Error (restartPolicy Never); not Ready."""
    now = st.now_iso()
    status = st.copy_json(pod.get("status") or {})
    status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
    conds = _base_conditions(pod, now, ready=False, started=False)
    for cond in conds:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update(reason="PodCompleted" if exit_code == 0 else "PodFailed")
            cond.pop("message", None)
    status["conditions"] = conds
    statuses = []
    for c in containers(pod):
        old = _statuses(pod).get(c.get("name"), {})
        started = ((old.get("state") or {}).get("running") or {}).get("startedAt", now)
        cs = _container_status(pod, c, {}, False, False)
        cs["state"] = {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                                      "startedAt": started,
                                      "finishedAt": now, "containerID": cs.get("containerID", "")}}
        statuses.append(cs)
    status["containerStatuses"] = statuses
    return status


def crashloop_status(pod: dict) -> dict:
    """The container exited 1 and waits to restart: CrashLoopBackOff, restartCount + 1."""
    now = st.now_iso()
    status = st.copy_json(pod.get("status") or {})
    status["conditions"] = _base_conditions(pod, now, ready=False, started=True)
    statuses = []
    ns, name, uid = pod["metadata"].get("namespace"), pod["metadata"]["name"], pod["metadata"]["uid"]
    for c in containers(pod):
        old = _statuses(pod).get(c.get("name"), {})
        started = ((old.get("state") or {}).get("running") or {}).get("startedAt", now)
        waiting = {"reason": "CrashLoopBackOff",
                   "message": f"back-off 10s restarting failed container={c.get('name')} pod={name}_{ns}({uid})"}
        cs = _container_status(pod, c, {"waiting": waiting}, False, False)
        cs["restartCount"] = int(old.get("restartCount", 0)) + 1
        cs["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": started,
                                          "finishedAt": now, "containerID": cs.get("containerID", "")}}
        statuses.append(cs)
    status["containerStatuses"] = statuses
    return status


class IpPool:
    """Hands out unused addresses PREFIX.x.y (pods 10.244/16, services 10.96/16)."""

    def __init__(self, prefix: str, start: int = 2) -> None:
        self.prefix = prefix
        self._next = start
        self._used: set[str] = set()

    def reserve(self, ips) -> None:
        self._used.update(ip for ip in ips if ip)

    def release(self, ip: str | None) -> None:
        self._used.discard(ip)

    def allocate(self) -> str:
        for _ in range(65534):
            n, self._next = self._next, self._next % 65533 + 1
            ip = f"{self.prefix}.{n // 256}.{n % 256}"
            if n % 256 not in (0, 255) and ip not in self._used:
                self._used.add(ip)
                return ip
        raise RuntimeError(f"no free address left in {self.prefix}.0.0/16")
