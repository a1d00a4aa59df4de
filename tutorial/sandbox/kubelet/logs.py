"""What each simulated container prints: the start-up lines of the real application, timestamped.

Emojivoto's services print what their Go `log.Printf` calls print at start-up (addresses taken from
the container's env), vote-bot keeps voting, istiod prints its flags and "All caches have been
synced up", istio-proxy (sidecar or gateway) its proxy role and "Envoy proxy is ready", nginx its
docker-entrypoint lines, and tool images the output of a finite `echo` command. Every line carries
the time the container wrote it (from the container's startedAt), so the API layer can serve
--timestamps, --since and --tail; each restart is a new container with its own lines.
"""

from __future__ import annotations

import datetime
import hashlib
import shlex

from tutorial.sandbox.kubelet.images import reference

Line = tuple[datetime.datetime, str]
VOTE_CHOICES = [":joy:", ":sunglasses:", ":100:", ":bulb:", ":older_man:", ":ghost:", ":pizza:", ":rocket:",
                ":trophy:", ":beer:", ":unicorn:", ":taco:"]


def parse_time(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def _env(container: dict) -> dict[str, str]:
    return {e.get("name", ""): str(e.get("value", "")) for e in container.get("env") or [] if isinstance(e, dict)}


def _go_log(at: datetime.datetime, text: str) -> str:
    return f"{at.strftime('%Y/%m/%d %H:%M:%S')} {text}"


def _istio_log(at: datetime.datetime, scope: str, text: str) -> str:
    prefix = f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z\tinfo\t"
    return prefix + (f"{scope}\t{text}" if scope else text)


def _emojivoto(container: dict, image_path: str, start: datetime.datetime) -> list[str]:
    env = _env(container)
    if "emojivoto-vote-bot" in " ".join(container.get("command") or []):
        return []  # vote-bot's lines come from its voting loop (see _vote_bot)
    if image_path.endswith("emojivoto-web"):
        return [_go_log(start, f"Connecting to [{env.get('VOTINGSVC_HOST', '')}]"),
                _go_log(start, f"Connecting to [{env.get('EMOJISVC_HOST', '')}]"),
                _go_log(start, f"Starting web server on WEB_PORT=[{env.get('WEB_PORT', '')}] and "
                               f"MESSAGE_OF_THE_DAY=[{env.get('MESSAGE_OF_THE_DAY', '')}]")]
    lines = []
    if env.get("PROM_PORT"):
        lines.append(_go_log(start, f"Starting prom metrics on PROM_PORT=[{env['PROM_PORT']}]"))
    return lines + [_go_log(start, f"Starting grpc server on GRPC_PORT=[{env.get('GRPC_PORT', '')}]")]


def _istiod(container: dict, start: datetime.datetime) -> list[str]:
    flags = []
    args = list(container.get("args") or [])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq and i + 1 < len(args) and not args[i + 1].startswith("--"):
                value, i = args[i + 1], i + 1
            flags.append(_istio_log(start, "", f'FLAG: --{name}="{value}"'))
        i += 1
    later = start + datetime.timedelta(milliseconds=1100)
    return sorted(flags) + [
        _istio_log(start, "klog", "Config not passed in, using in-cluster config"),
        _istio_log(later, "ads", "All caches have been synced up in 1.1s, marking server ready")]


def _proxy(pod: dict, start: datetime.datetime) -> list[str]:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    ns = meta.get("namespace", "default")
    labels = meta.get("labels") or {}
    gateway = any(k in labels for k in ("istio", "gateway.networking.k8s.io/gateway-name", "istio.io/gateway-name"))
    role = "router" if gateway else "sidecar"
    ready = start + datetime.timedelta(milliseconds=1020)
    return [_istio_log(start, "", f"Proxy role\tips=[{status.get('podIP', '')}] type={role} "
                                  f"id={meta.get('name', '')}.{ns} domain={ns}.svc.cluster.local"),
            _istio_log(start, "", "Pilot SAN: [istiod.istio-system.svc]"),
            _istio_log(start, "", "Starting proxy agent"),
            _istio_log(start, "xdsproxy", "connected to delta upstream XDS server: istiod.istio-system.svc:15012"),
            _istio_log(ready, "", "Readiness succeeded in 1.02s"),
            _istio_log(ready, "", "Envoy proxy is ready")]


def _nginx(image: str, start: datetime.datetime) -> list[str]:
    tag = reference(image)[2]
    version = tag if tag[:1].isdigit() else "1.27.3"
    scripts = ["10-listen-on-ipv6-by-default.sh", "20-envsubst-on-templates.sh", "30-tune-worker-processes.sh"]
    stamp = start.strftime("%Y/%m/%d %H:%M:%S")
    return (["/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
             "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/"]
            + [f"/docker-entrypoint.sh: Launching /docker-entrypoint.d/{s}" for s in scripts]
            + ["/docker-entrypoint.sh: Configuration complete; ready for start up",
               f'{stamp} [notice] 1#1: using the "epoll" event method', f"{stamp} [notice] 1#1: nginx/{version}",
               f"{stamp} [notice] 1#1: start worker processes"])


def _echo_output(container: dict) -> list[str]:
    """The output of the `echo` parts of a tool container's command (what the sandbox can honestly run)."""
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    if argv[:1] == ["echo"]:
        return [" ".join(argv[1:])]
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and argv[1] == "-c":
        out = []
        for part in argv[2].replace("&&", ";").split(";"):
            try:
                words = shlex.split(part)
            except ValueError:
                continue
            if words[:1] == ["echo"]:
                out.append(" ".join(words[1:]))
        return out
    return []


def startup_lines(pod: dict, container: dict, start: datetime.datetime) -> list[str]:
    """The lines a container prints as it starts (before any traffic)."""
    image = container.get("image", "")
    _, path, _ = reference(image)
    if "buoyantio/emojivoto" in path:
        return _emojivoto(container, path, start)
    if path.endswith("/pilot"):
        return _istiod(container, start)
    if path.endswith("/proxyv2"):
        return _proxy(pod, start)
    if path.endswith("library/nginx"):
        return _nginx(image, start)
    echoed = _echo_output(container)
    if echoed or path.endswith(("busybox", "curl", "alpine")):
        return echoed
    return [f"(simulated container {container.get('name', '')}: the sandbox records no output for {image})"]


def _vote_bot(start: datetime.datetime, until: datetime.datetime) -> list[Line]:
    """vote-bot votes about once a second for as long as it runs."""
    seconds = max(int((until - start).total_seconds()), 0)
    lines = []
    for i in range(max(seconds - 200, 0), seconds):
        pick = int(hashlib.sha256(f"{start.isoformat()}{i}".encode()).hexdigest()[:6], 16) % len(VOTE_CHOICES)
        lines.append((start + datetime.timedelta(seconds=i + 1), f"✔ Voting for {VOTE_CHOICES[pick]}"))
    return lines


def container_lines(pod: dict, container: dict, start: datetime.datetime,
                    until: datetime.datetime) -> list[Line]:
    """Every (time, line) the container wrote between its start and `until` (now or its end)."""
    lines = [(start, text) for text in startup_lines(pod, container, start)]
    if "emojivoto-vote-bot" in " ".join(container.get("command") or []):
        lines += _vote_bot(start, until)
    return lines
