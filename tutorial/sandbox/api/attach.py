"""pods/attach over WebSockets (or SPDY, see spdystreams.py): the container's output from the moment
kubectl attaches.

A real attach connects to the main process's stdio. The sandbox runs no process, so attach
streams what the container writes from now on - the same lines `kubectl logs -f` shows (nginx
access lines, the echo server's requests, vote-bot's votes) - on the stdout channel, until the
container stops or the client goes, then sends Success on the error channel. Attaching stdin
(`-i`, `kubectl run -it`) is refused at once: nothing reads a simulated container's stdin.
"""

from __future__ import annotations

import datetime
import json
import threading
import time

from tutorial.sandbox.api import execws, podlogs, spdystreams, websocket
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request, current

POLL = 0.25  # seconds between looks for new output
SUCCESS = json.dumps({"metadata": {}, "status": "Success"}).encode()


def serve(h: Handler, req: Request) -> None:
    pod = current(h, req)
    container = execws.running_container(pod, req.q("container"))
    if req.q("stdin") in ("true", "1"):
        raise ApiError(400, "BadRequest", "pods/attach with stdin is not simulated by the sandbox: nothing reads a "
                                          "simulated container's stdin; `kubectl attach` without -i shows its output, "
                                          "`kubectl exec -i` runs commands")
    if spdystreams.wants(h):
        return _serve_spdy(h, req, pod, container)
    protocol = websocket.choose_protocol(h.headers)
    if protocol is None:
        raise ApiError(400, "BadRequest", "attach over WebSockets needs a channel.k8s.io subprotocol (v4 or v5)")
    websocket.accept(h, protocol)
    gone = threading.Event()
    threading.Thread(target=_watch_client, args=(h, gone), daemon=True).start()
    _stream(h, pod, container, gone, lambda data: websocket.send(h, execws.STDOUT, data))
    if not gone.is_set() and protocol != "channel.k8s.io":
        websocket.send(h, execws.ERROR, SUCCESS)
    websocket.close(h)


def _serve_spdy(h: Handler, req: Request, pod: dict, container: dict) -> None:
    streams = spdystreams.Streams(h)
    if streams.wait_for(spdystreams.expected(False, req.q("stdout") in ("true", "1"),
                                             req.q("stderr") in ("true", "1"), req.q("tty") in ("true", "1"))):
        _stream(h, pod, container, streams.gone, streams.writer("stdout"))
    streams.finish(None if streams.gone.is_set() else SUCCESS)


def _stream(h: Handler, pod: dict, container: dict, gone: threading.Event, write) -> None:
    """Send what the container writes from now on until it stops, the client goes or the server stops."""
    since = datetime.datetime.now(datetime.timezone.utc)
    ns, name, uid = pod["metadata"].get("namespace"), pod["metadata"]["name"], pod["metadata"]["uid"]
    while not gone.is_set() and not h.api.stopping.is_set():
        now = h.api.store.get(("", "pods"), ns, name)
        fresh = podlogs.written_since(now, container, since) if now and now["metadata"]["uid"] == uid else None
        if fresh is None:
            break
        if fresh:
            write("".join(text + "\n" for _, text in fresh).encode())
            since = fresh[-1][0]
        time.sleep(POLL)


def _watch_client(h: Handler, gone: threading.Event) -> None:
    """The client sends nothing but a close (or hangs up) while attached without stdin."""
    while True:
        message = websocket.read_message(h, None)
        if message is None or message[0] == 0x8:
            gone.set()
            return
