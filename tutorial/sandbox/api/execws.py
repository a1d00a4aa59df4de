"""pods/exec over WebSockets (the channel protocols kubectl 1.32 and the kubernetes client speak) and SPDY.

The upgrade is accepted for a running container; the command runs through kubelet/exec.py (a
small honest set, "not simulated by the sandbox" for the rest); stdout and stderr go out on their
channels as they are written (merged, with CR LF line ends, when a tty is asked for), then the
status on the error channel (exit code in details.causes, as the kubelet sends it), then a close
frame. Over SPDY (kubectl's fallback, the default before kubectl 1.30) the same run goes through
spdystreams.py.
"""

from __future__ import annotations

import json

from tutorial.sandbox.api import spdystreams, websocket
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, current
from tutorial.sandbox.kubelet import exec as kexec
from tutorial.sandbox.kubelet import shell

STDIN, STDOUT, STDERR, ERROR, CLOSE = 0, 1, 2, 3, 255
STDIN_WAIT = 300.0  # seconds an exec may wait for input before it is ended


def _flag(req: Request, key: str) -> bool:
    return req.q(key) in ("true", "1")


def running_container(pod: dict, wanted: str) -> dict:
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
    container = running_container(pod, req.q("container"))
    if spdystreams.wants(h):
        return _serve_spdy(h, req, pod, container)
    protocol = websocket.choose_protocol(h.headers)
    if protocol is None:
        raise ApiError(400, "BadRequest", "exec over WebSockets needs a channel.k8s.io subprotocol (v4 or v5)")
    argv = list(req.query.get("command") or [])
    websocket.accept(h, protocol)
    stdin_open = _flag(req, "stdin")

    def read_stdin() -> bytes | None:
        nonlocal stdin_open
        while stdin_open:
            message = websocket.read_message(h, STDIN_WAIT)
            if message is None or message[0] == 0x8:
                stdin_open = False
            elif message[0] in (0x1, 0x2) and message[1][:1] == bytes([STDIN]):
                return message[1][1:]
            elif message[0] in (0x1, 0x2) and message[1][:1] == bytes([CLOSE]):
                stdin_open = False  # v5: the client closed stdin
        return None

    tty = _flag(req, "tty")
    out = (lambda data: websocket.send(h, STDOUT, _crlf(data) if tty else data)) if _flag(req, "stdout") else _drop
    err = out if tty else ((lambda data: websocket.send(h, STDERR, data)) if _flag(req, "stderr") else _drop)
    code = kexec.run(pod, container, argv, shell.IO(read_stdin, _nonempty(out), _nonempty(err), tty),
                     h.api.store)
    if protocol != "channel.k8s.io":
        websocket.send(h, ERROR, json.dumps(exit_status(argv, code)).encode())
    websocket.close(h)


def _serve_spdy(h: Handler, req: Request, pod: dict, container: dict) -> None:
    argv, tty = list(req.query.get("command") or []), _flag(req, "tty")
    streams = spdystreams.Streams(h)
    if not streams.wait_for(spdystreams.expected(_flag(req, "stdin"), _flag(req, "stdout"), _flag(req, "stderr"), tty)):
        return streams.finish(None)
    out = streams.writer("stdout")
    out = (lambda data: streams.writer("stdout")(_crlf(data))) if tty else out
    err = out if tty else streams.writer("stderr")
    code = kexec.run(pod, container, argv, shell.IO(streams.read_stdin, out, err, tty), h.api.store)
    streams.finish(json.dumps(exit_status(argv, code)).encode())


def _drop(data: bytes) -> None:
    pass


def _nonempty(write):
    return lambda data: write(data) if data else None


def _crlf(data: bytes) -> bytes:
    """A pty's output line ends (onlcr)."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
