"""`curl` and `wget` inside a simulated container: HTTP to in-cluster Services and pods.

The simulated network resolves what cluster DNS and kube-proxy would: `svc`, `svc.ns`,
`svc.ns.svc[.cluster.local]`, a ClusterIP, a pod IP, or localhost (this pod). A Service's port goes
to its targetPort on one of its ready endpoints, and the connection reaches the program modelled in
that pod (kubelet/listeners.py) - the same far end as a port-forward. No ready endpoint or nothing
listening: curl's "Couldn't connect to server" (exit 7). Hosts outside the cluster, HTTPS and
flags beyond the common ones are not simulated by the sandbox and say so. Every image is treated
as having both tools (real busybox images have only wget).
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit

from tutorial.sandbox.kubelet import listeners
from tutorial.sandbox.kubelet.shell import IO

AGENT = {"curl": "curl/8.11.1", "wget": "Wget"}
CURL_FLAGS = {"--silent", "--show-error", "--include", "--head", "--fail", "--insecure", "--location", "--verbose"}
SHORT_FLAGS = set("sSiIfkLv")  # -s -S -i -I -f -k -L -v, alone or combined (-sSf)
CURL_VALUES = {"-o", "--output", "-w", "--write-out", "-H", "--header", "-X", "--request", "-d", "--data",
               "-m", "--max-time", "--connect-timeout"}


class NetError(Exception):
    """(curl exit code, curl message, wget message)."""


def curl(store, pod: dict, args: list[str], io: IO) -> int:
    opts, url, i = {"-H": []}, "", 0
    while i < len(args):
        arg = args[i]
        if arg in CURL_VALUES and i + 1 < len(args):
            key = {"--output": "-o", "--write-out": "-w", "--header": "-H", "--request": "-X", "--data": "-d",
                   "--max-time": "-m", "--connect-timeout": "-m"}.get(arg, arg)
            opts["-H"].append(args[i + 1]) if key == "-H" else opts.__setitem__(key, args[i + 1])
            i += 1
        elif arg in CURL_FLAGS:
            opts[{"--silent": "s", "--show-error": "S", "--include": "i", "--head": "I", "--fail": "f"}.get(arg, arg)] = 1
        elif arg[:1] == "-" and arg[1:2] != "-" and len(arg) > 1 and set(arg[1:]) <= SHORT_FLAGS:
            opts.update({f: True for f in arg[1:]})
        elif not arg.startswith("-") and not url:
            url = arg
        else:
            io.err(f"curl {' '.join(args)}: the option {arg} is not simulated by the sandbox\n".encode())
            return 2
        i += 1
    if not url:
        io.err(b"curl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    method = opts.get("-X") or ("HEAD" if opts.get("I") else "POST" if "-d" in opts else "GET")
    try:
        status, head, body = fetch(store, pod, method, url, "curl", opts["-H"], (opts.get("-d") or "").encode())
    except NetError as e:
        if not opts.get("s") or opts.get("S"):
            io.err(f"curl: ({e.args[0]}) {e.args[1]}\n".encode())
        return e.args[0]
    if opts.get("f") and status >= 400:
        if not opts.get("s") or opts.get("S"):
            io.err(f"curl: (22) The requested URL returned error: {status}\n".encode())
        return 22
    shown = (head if opts.get("i") or opts.get("I") else b"") + (b"" if opts.get("I") else body)
    if opts.get("-o") and opts["-o"] != "-":
        shown = b""  # written to a file: /dev/null is where scripts send it
    io.out(shown)
    if opts.get("-w"):
        io.out(opts["-w"].replace("%{http_code}", str(status)).replace("\\n", "\n").encode())
    return 0


def wget(store, pod: dict, args: list[str], io: IO) -> int:
    quiet, output, url, i = False, "", "", 0
    while i < len(args):
        arg = args[i]
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-O", "-T") and i + 1 < len(args):
            output = args[i + 1] if arg == "-O" else output
            i += 1
        elif arg in ("-qO-", "-qO", "-O-"):
            quiet, output = quiet or arg.startswith("-q"), "-" if arg.endswith("-") else output
            if arg == "-qO" and i + 1 < len(args):
                output, i = args[i + 1], i + 1
        elif not arg.startswith("-") and not url:
            url = arg
        else:
            io.err(f"wget {' '.join(args)}: the option {arg} is not simulated by the sandbox\n".encode())
            return 1
        i += 1
    try:
        status, _, body = fetch(store, pod, "GET", url, "wget", [], b"")
    except NetError as e:
        io.err(f"wget: {e.args[2]}\n".encode())
        return 1
    if status >= 400:
        io.err(f"wget: server returned error: HTTP/1.1 {status}\n".encode())
        return 1
    if output == "-":
        io.out(body)
    elif not quiet:
        io.err(f"Connecting to {urlsplit(url).netloc}\nsaving to '{output or 'index.html'}'\n".encode())
    return 0


def fetch(store, pod: dict, method: str, url: str, tool: str, headers: list[str], data: bytes):
    """(status, raw head, body) of one HTTP request from `pod`, or NetError."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme != "http":
        raise NetError(1, f"{parts.scheme} is not simulated by the sandbox (plain http:// only)",
                       f"{parts.scheme} is not simulated by the sandbox (plain http:// only)")
    target_pod, target_port = _resolve(store, pod, host, port)
    try:
        client = "127.0.0.1" if target_pod is pod else (pod.get("status") or {}).get("podIP", "")
        conn = listeners.connect(target_pod, target_port, store, client)
    except listeners.Refused:
        raise NetError(7, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server",
                       f"can't connect to remote host: Connection refused") from None
    lines = [f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
             f"Host: {parts.netloc}", f"User-Agent: {AGENT[tool]}", "Accept: */*", *headers, "Connection: close"]
    if data:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
    answer = conn.send(("\r\n".join(lines) + "\r\n\r\n").encode() + data) + conn.shutdown()
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or not sep:
        raise NetError(1, "Received HTTP/0.9 when not allowed", "server returned an answer that is not HTTP")
    return int(head.split()[1]), head + sep, body


def _resolve(store, pod: dict, host: str, port: int) -> tuple[dict, int]:
    """The pod and port a connection to host:port lands on, as cluster DNS and kube-proxy route it."""
    own_ns = pod["metadata"].get("namespace", "default")
    if host in ("localhost", "127.0.0.1", pod["metadata"]["name"]):
        return pod, port
    pods = store.list(("", "pods"))[0]
    by_ip = next((p for p in pods if (p.get("status") or {}).get("podIP") == host), None)
    if by_ip is not None:
        return by_ip, port
    services = store.list(("", "services"))[0]
    labels = host.removesuffix(".cluster.local").removesuffix(".svc").split(".")
    svc = next((s for s in services if (s.get("spec") or {}).get("clusterIP") == host), None)
    if svc is None and len(labels) <= 2:
        svc = store.get(("", "services"), labels[1] if len(labels) == 2 else own_ns, labels[0])
    if svc is None:
        raise NetError(6, f"Could not resolve host: {host} (the sandbox's network reaches in-cluster Services "
                          "and pods only; anything else is not simulated by the sandbox)", f"bad address '{host}'")
    return _endpoint(store, svc, host, port)


def _endpoint(store, svc: dict, host: str, port: int) -> tuple[dict, int]:
    ns = svc["metadata"].get("namespace", "default")
    spec_port = next((p for p in (svc.get("spec") or {}).get("ports") or [] if int(p.get("port", 0)) == port), None)
    endpoints = store.get(("", "endpoints"), ns, svc["metadata"]["name"]) or {}
    ready = [a for s in endpoints.get("subsets") or [] for a in s.get("addresses") or []]
    refused = NetError(7, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server",
                       "can't connect to remote host: Connection refused")
    if spec_port is None or not ready:
        raise refused
    ref = random.choice(ready).get("targetRef") or {}
    target = store.get(("", "pods"), ref.get("namespace", ns), ref.get("name", ""))
    if target is None:
        raise refused
    wanted = spec_port.get("targetPort", port)
    if isinstance(wanted, str) and not wanted.isdigit():
        wanted = next((p["containerPort"] for c in (target.get("spec") or {}).get("containers") or []
                       for p in c.get("ports") or [] if p.get("name") == wanted), 0)
    return target, int(wanted)
