"""`kubectl exec` in a simulated container: a small, honest set of commands, and a clear no for the rest.

No process runs in the sandbox, so exec answers what it can know: `env`/`printenv` (the pod's env
plus what the kubelet adds), `hostname`, `cat` of the files the kubelet writes (/etc/hostname,
/etc/hosts, /etc/resolv.conf, the service account's namespace), `cat` with no file (echoes stdin),
`echo`, `date`, `pwd`, `whoami`, `ls /`, `sleep N`, `true`, `false`, `exit N`, and `sh -c` scripts
made of those joined by `;` or `&&`. Anything else fails with exit code 127 and a message saying it
is not simulated by the sandbox.
"""

from __future__ import annotations

import dataclasses
import datetime
import shlex
import time
from typing import Callable

SIMULATED = ("env, printenv, hostname, cat of the kubelet's files, echo, date, pwd, whoami, ls /, "
             "sleep, true, false, exit")
ROOT_DIRS = "bin\ndev\netc\nhome\nlib\nproc\nroot\nsys\ntmp\nusr\nvar\n"


@dataclasses.dataclass
class Result:
    code: int
    stdout: bytes = b""
    stderr: bytes = b""


def environment(pod: dict, container: dict) -> list[tuple[str, str]]:
    """The process environment: PATH and HOSTNAME, the container's env, the kubernetes Service's."""
    env = [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
           ("HOSTNAME", pod["metadata"]["name"])]
    env += [(e["name"], str(e.get("value", ""))) for e in container.get("env") or []
            if isinstance(e, dict) and "name" in e and "valueFrom" not in e]
    env += [("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"),
            ("KUBERNETES_SERVICE_PORT_HTTPS", "443"), ("KUBERNETES_PORT", "tcp://10.96.0.1:443"),
            ("KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"), ("KUBERNETES_PORT_443_TCP_PROTO", "tcp"),
            ("KUBERNETES_PORT_443_TCP_PORT", "443"), ("KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"),
            ("HOME", "/root")]
    return env


def files(pod: dict) -> dict[str, str]:
    """The files the kubelet writes into every container."""
    name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace", "default")
    ip = (pod.get("status") or {}).get("podIP", "")
    hosts = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
             f"{ip}\t{name}\n")
    resolv = f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
    sa = "/var/run/secrets/kubernetes.io/serviceaccount"
    return {"/etc/hostname": name + "\n", "/etc/hosts": hosts, "/etc/resolv.conf": resolv,
            f"{sa}/namespace": ns, f"{sa}/token": "sandbox-token"}


def run(pod: dict, container: dict, argv: list[str], read_stdin: Callable[[], bytes | None],
        write_out: Callable[[bytes], None]) -> Result:
    """Run argv as the sandbox can; read_stdin() gives the next stdin chunk (None once closed),
    write_out(data) streams output as it comes (cat echoing stdin); the rest is in the Result."""
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash", "ash") and argv[1] == "-c":
        return _script(pod, container, argv[2], read_stdin, write_out)
    return _command(pod, container, argv, read_stdin, write_out)


def _script(pod: dict, container: dict, script: str, read_stdin, write_out) -> Result:
    out = Result(0)
    for part, joiner in _split(script):
        try:
            words = shlex.split(part)
        except ValueError:
            return Result(2, out.stdout, out.stderr + b"sh: syntax error: unterminated quoted string\n")
        if not words:
            continue
        if any(w in ("|", "<", ">", ">>") or w.startswith(("$(", "`")) for w in words) or words[0] in (
                "for", "while", "if", "until"):
            return Result(127, out.stdout, out.stderr + _not_simulated(part))
        if words[0] == "exit":
            return Result(int(words[1]) if len(words) > 1 and words[1].isdigit() else out.code, out.stdout, out.stderr)
        step = _command(pod, container, words, read_stdin, write_out)
        out = Result(step.code, out.stdout + step.stdout, out.stderr + step.stderr)
        if joiner == "&&" and step.code != 0:
            break
    return out


def _split(script: str) -> list[tuple[str, str]]:
    """Simple commands with the operator that follows each (";" or "&&")."""
    parts, rest = [], script
    while rest:
        cut = min(((rest.find(op), op) for op in ("&&", ";", "\n") if op in rest), default=(-1, ""))
        if cut[0] < 0:
            parts.append((rest, ";"))
            break
        parts.append((rest[:cut[0]], "&&" if cut[1] == "&&" else ";"))
        rest = rest[cut[0] + len(cut[1]):]
    return parts


def _not_simulated(command: str) -> bytes:
    return (f"sh: {command.strip()}: not simulated by the sandbox (exec runs only: {SIMULATED})\n").encode()


def _command(pod: dict, container: dict, argv: list[str], read_stdin, write_out) -> Result:
    name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
    if name in ("sh", "bash", "ash") and not args:
        return Result(127, b"", f"{name}: an interactive shell is not simulated by the sandbox (exec runs only: "
                                f"{SIMULATED})\n".encode())
    known = files(pod)
    if name in ("env", "printenv") and not args:
        return Result(0, "".join(f"{k}={v}\n" for k, v in environment(pod, container)).encode())
    if name == "printenv":
        values = dict(environment(pod, container))
        found = [values[a] for a in args if a in values]
        return Result(0 if len(found) == len(args) else 1, "".join(v + "\n" for v in found).encode())
    simple = {"true": Result(0), "false": Result(1), "pwd": Result(0, b"/\n"), "whoami": Result(0, b"root\n"),
              "hostname": Result(0, known["/etc/hostname"].encode())}
    if name in simple and not args:
        return simple[name]
    if name == "echo":
        newline = not (args[:1] == ["-n"])
        return Result(0, (" ".join(args[1:] if not newline else args) + ("\n" if newline else "")).encode())
    if name == "date" and not args:
        return Result(0, datetime.datetime.now(datetime.timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y\n").encode())
    if name == "ls" and args == ["/"]:
        return Result(0, ROOT_DIRS.encode())
    if name == "sleep" and len(args) == 1 and args[0].replace(".", "", 1).isdigit():
        time.sleep(min(float(args[0]), 30.0))
        return Result(0)
    if name == "cat":
        return _cat(known, args, read_stdin, write_out)
    return Result(127, b"", _not_simulated(" ".join(argv)))


def _cat(known: dict[str, str], args: list[str], read_stdin, write_out) -> Result:
    if not args:  # echo stdin as it comes, until the client closes it
        while (chunk := read_stdin()) is not None:
            write_out(chunk)
        return Result(0)
    out, err, code = b"", b"", 0
    for path in args:
        if path in known:
            out += known[path].encode()
        else:
            err += f"cat: can't open '{path}': not simulated by the sandbox (only the kubelet's files are)\n".encode()
            code = 1
    return Result(code, out, err)
