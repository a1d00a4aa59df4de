"""The embedded sandbox: one simulated cluster with its state on disk, like an embedded database.

Files in `state_dir()/sandbox/`: `store.json` (the cluster), `kubeconfig` (context "sandbox"),
`owner.json` (pid and url of the serving process) and `lock` (an fcntl lock held while serving).
The lock guarantees one writer; a second process finds the owner and connects to it instead.
A process that dies releases the lock with it, so its owner file is stale and the next one takes over.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import urllib.error
import ssl
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tutorial.sandbox import kubeconfig
from tutorial.sandbox.cluster import SandboxCluster, SandboxError
from tutorial.sandbox.controllers.runtime import SandboxSettings

CONTEXT = "sandbox"


def sandbox_dir() -> Path:
    from tutorial.paths import state_dir

    return state_dir() / "sandbox"


def store_path(base: Path | None = None) -> Path:
    return (base or sandbox_dir()) / "store.json"


@dataclass
class EmbeddedSandbox:
    """A handle on the embedded sandbox: served by this process (owned) or by another one."""

    kubeconfig: Path
    url: str
    owned: bool
    context: str = CONTEXT
    cluster: SandboxCluster | None = None
    notices: list[str] = field(default_factory=list)
    _lock_fd: int | None = None
    _owner_file: Path | None = None

    def release(self) -> None:
        """Stop serving (when owned) and let the next process take over; idempotent."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        if self._owner_file is not None:
            self._owner_file.unlink(missing_ok=True)
            self._owner_file = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "EmbeddedSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def read_owner(base: Path | None = None) -> dict | None:
    """The owner file's {"pid", "url"} or None when absent or unreadable."""
    try:
        data = json.loads(((base or sandbox_dir()) / "owner.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "pid" in data and "url" in data else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (TypeError, ValueError):
        return False
    return True


def answers(url: str, timeout: float = 2.0, token: str | None = None) -> bool:
    """True when GET url/readyz answers 200 (with the sandbox's bearer token)."""
    try:
        request = urllib.request.Request(f"{url}/readyz", headers={"Authorization": f"Bearer {token or ''}"})
        # liveness only: the owner's certificate is in its kubeconfig, but any answer will do here
        with urllib.request.urlopen(request, timeout=timeout, context=ssl._create_unverified_context()) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def try_lock(base: Path) -> int | None:
    """The fd of the held lock file, or None when another process holds it."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(base / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise SandboxError(f"cannot keep the sandbox state in {base} ({exc.strerror}); set "
                           "GATEWAY_TUTORIAL_STATE_DIR to a writable directory") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def acquire_embedded(base: Path | None = None, settings: SandboxSettings | None = None,
                     faults=None, wait: float = 10.0) -> EmbeddedSandbox:
    """Serve the embedded sandbox from this process, or connect to the process that serves it."""
    base = base or sandbox_dir()
    deadline = time.monotonic() + wait
    while True:
        fd = try_lock(base)
        if fd is not None:
            return _serve(base, fd, settings, faults)
        owner = read_owner(base)
        if owner and pid_alive(owner["pid"]) and answers(owner["url"], token=kubeconfig.token_in(base / "kubeconfig")):
            return EmbeddedSandbox(kubeconfig=base / "kubeconfig", url=owner["url"], owned=False)
        if time.monotonic() > deadline:
            who = f"process {owner['pid']} at {owner['url']}" if owner else "another process"
            raise SandboxError(f"the embedded sandbox is held by {who} but does not answer; stop that "
                               f"gateway-tutorial process, or remove {base / 'owner.json'} if it is gone")
        time.sleep(0.1)  # the owner is starting (lock taken, owner file not written yet)


def _serve(base: Path, fd: int, settings: SandboxSettings | None, faults) -> EmbeddedSandbox:
    """Start the cluster on the previous port when free, write kubeconfig and owner file."""
    previous = read_owner(base)
    cluster = None
    try:
        for port in _ports(previous):
            cluster = SandboxCluster(name=CONTEXT, port=port, lb_address="",  # this process's own address block
                                     state_path=store_path(base), settings=settings, faults=faults)
            try:
                cluster.start()
                break
            except SandboxError:
                cluster.stop()
                cluster = None
        assert cluster is not None
        kc = kubeconfig.write(base / "kubeconfig", [(CONTEXT, cluster.url, cluster.token, cluster.cert.cert_pem)])
        owner_file = base / "owner.json"
        tmp = base / f".owner.{os.getpid()}.tmp"
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "url": cluster.url, "started": time.time()}))
        os.replace(tmp, owner_file)
    except BaseException:
        if cluster is not None:
            cluster.stop()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        raise
    return EmbeddedSandbox(kubeconfig=kc, url=cluster.url, owned=True, cluster=cluster,
                           notices=list(cluster.notices), _lock_fd=fd, _owner_file=owner_file)


def _ports(previous: dict | None) -> list[int]:
    """Try the port the last owner used (a learner's shell may still point at it), then any."""
    try:
        port = int(str(previous["url"]).rsplit(":", 1)[1]) if previous else 0
    except (ValueError, IndexError, KeyError):
        port = 0
    return [port, 0] if port else [0]


def reset(base: Path | None = None) -> str:
    """Empty the embedded sandbox (delete its store); refuses while a process serves it."""
    base = base or sandbox_dir()
    fd = try_lock(base)
    if fd is None:
        owner = read_owner(base) or {}
        raise SandboxError(f"the embedded sandbox is in use by process {owner.get('pid', '?')} "
                           f"({owner.get('url', 'starting')}); quit that gateway-tutorial first, then run "
                           "`gateway-tutorial sandbox reset` again")
    try:
        removed = [p for p in (store_path(base),) if p.is_file()]
        for path in removed:
            path.unlink()
        (base / "owner.json").unlink(missing_ok=True)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return (f"The embedded sandbox in {base} is empty now; it starts fresh next time."
            if removed else f"The embedded sandbox in {base} was already empty.")
