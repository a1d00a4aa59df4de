"""The files a simulated container has: what the kubelet writes into it, and what was copied in.

Every container gets /etc/hostname, /etc/hosts, /etc/resolv.conf and the service account's
namespace and token, as the kubelet mounts them. Files written by `kubectl cp` (through `tar xf -`)
or a shell redirection live in memory per container (pod uid + container name), like a container's
writable layer: a restart or a sandbox restart loses them. `tar cf -` of any of these files answers
with a real tar stream, which is what `kubectl cp` from a pod unpacks.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import threading
import time

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_DIRS = ("bin", "dev", "etc", "home", "lib", "proc", "root", "sys", "tmp", "usr", "var")
_WRITTEN: dict[tuple[str, str], dict[str, bytes]] = {}
MAX_CONTAINERS = 500  # writable layers kept; the oldest goes first (deleted pods never come back)
_LOCK = threading.Lock()


def kubelet_files(pod: dict) -> dict[str, str]:
    """The files the kubelet writes into every container."""
    name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace", "default")
    ip = (pod.get("status") or {}).get("podIP", "")
    hosts = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
             f"{ip}\t{name}\n")
    resolv = f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    return {"/etc/hostname": name + "\n", "/etc/hosts": hosts, "/etc/resolv.conf": resolv,
            f"{SA_DIR}/namespace": ns, f"{SA_DIR}/token": "sandbox-token"}


class Files:
    """One container's view: read, write, list and tar its files."""

    def __init__(self, pod: dict, container: dict) -> None:
        self.key = (pod["metadata"].get("uid", ""), container.get("name", ""))
        self.base = {p: t.encode() for p, t in kubelet_files(pod).items()}

    def _all(self) -> dict[str, bytes]:
        with _LOCK:
            return {**self.base, **_WRITTEN.get(self.key, {})}

    def read(self, path: str) -> bytes | None:
        return self._all().get(normal(path))

    def write(self, path: str, data: bytes, append: bool = False) -> None:
        path = normal(path)
        with _LOCK:
            if self.key not in _WRITTEN and len(_WRITTEN) >= MAX_CONTAINERS:
                del _WRITTEN[next(iter(_WRITTEN))]
            mine = _WRITTEN.setdefault(self.key, {})
            mine[path] = (mine.get(path, self.base.get(path, b"")) if append else b"") + data

    def is_dir(self, path: str) -> bool:
        path = normal(path)
        if path == "/" or path.strip("/") in ROOT_DIRS:
            return True
        return any(f.startswith(path.rstrip("/") + "/") for f in self._all())

    def under(self, path: str) -> dict[str, bytes]:
        """The file at path, or every file below the directory at path."""
        path = normal(path)
        return {f: d for f, d in sorted(self._all().items()) if f == path or f.startswith(path.rstrip("/") + "/")}

    @staticmethod
    def archive(found: dict[str, bytes]) -> bytes:
        """A ustar stream of these files, member names without the leading '/' as tar writes them."""
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
            for name, data in found.items():
                info = tarfile.TarInfo(name.lstrip("/"))
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                archive.addfile(info, io.BytesIO(data))
        return out.getvalue()

    def untar(self, data: bytes, directory: str) -> list[str]:
        """`tar xf - -C directory`: regular files land in memory; what tar would say about the rest."""
        notes = []
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive.getmembers():
                target = normal(posixpath.join(directory, member.name))
                if member.isfile():
                    self.write(target, archive.extractfile(member).read())
                elif not member.isdir():
                    notes.append(f"tar: {member.name}: only regular files are simulated by the sandbox")
        return notes


def normal(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"
