"""pods/exec over WebSockets (the channel protocols kubectl 1.32 and the kubernetes client speak).

The upgrade is accepted for a running container; the command runs through kubelet/exec.py (a
small honest set, "not simulated by the sandbox" for the rest); stdout and stderr go out on their
channels, then the status on the error channel (exit code in details.causes, as the kubelet sends
it), then a close frame. SPDY (the older fallback) and attach/port-forward stay not simulated.
"""

from __future__ import annotations

import json

from tutorial.sandbox.api import websocket
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, current
from tutorial.sandbox.kubelet import exec as kexec

STDIN, STDOUT, STDERR, ERROR, CLOSE = 0, 1, 2, 3, 255
STDIN_WAIT = 300.0  # seconds an exec may wait for input before it is ended


def _flag(req: Request, key: str) -> bool:
    return req.q(key) in ("true", "1")


def _container(pod: dict, wanted: str) -> dict:
    containers = (pod.get("spec") or {}).get("containers") or []
    found = next((c for c in containers if c.get("name") == wanted), None) if wanted else (containers or [None])[0]
    running = {s.get("name") for s in (pod.get("status") or {}).get("containerStatuses") or []
               if "running" in (s.get("state") or {})}
    if found is None or found.get("name") not in running:
        raise ApiError(400, "BadRequest", f'container not found ("{wanted or (found or {}).get("name", "")}")')
    return found


def exit_status(argv: list[str], code: int) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"[{' '.join(argv)}], exit code {code}",
            "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def serve(h: Handler, req: Request) -> None:
    """Run one exec session on an upgraded connection."""
    pod = current(h, req)
    container = _container(pod, req.q("container"))
    protocol = websocket.choose_protocol(h.headers)
    if protocol is None:
        raise ApiError(400, "BadRequest", "exec over WebSockets needs a channel.k8s.io subprotocol (v4 or v5)")
    argv = list(req.query.get("command") or [])
    websocket.accept(h, protocol)
    stdin_open = _flag(req, "stdin")

    def read_stdin() -> bytes | None:
        nonlocal stdin_open
        while stdin_open:
            frame = websocket.read_frame(h, STDIN_WAIT)
            if frame is None or frame[0] == 0x8:
                stdin_open = False
            elif frame[0] in (0x1, 0x2) and frame[1][:1] == bytes([STDIN]):
                return frame[1][1:]
            elif frame[0] in (0x1, 0x2) and frame[1][:1] == bytes([CLOSE]):
                stdin_open = False  # v5: the client closed stdin
        return None

    def write_out(data: bytes) -> None:
        websocket.send(h, STDOUT, data)

    result = kexec.run(pod, container, argv, read_stdin, write_out)
    if result.stdout and _flag(req, "stdout"):
        websocket.send(h, STDOUT, result.stdout)
    if result.stderr:
        websocket.send(h, STDERR if _flag(req, "stderr") else STDOUT, result.stderr)
    if protocol != "channel.k8s.io":
        websocket.send(h, ERROR, json.dumps(exit_status(argv, result.code)).encode())
    websocket.close(h)
