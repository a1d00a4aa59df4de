"""GET pods/NAME/log as the API server and kubelet answer it: per container, previous, follow, tail, since.

The lines come from kubelet/logs.py (the application's own start-up output, timestamped from the
container's start). Errors use the real wording: no container named when the pod has several, an
unknown container, a container still waiting to start (or failing to pull its image), and
`--previous` without an earlier terminated container. A pod not yet on a node has an empty log.
"""

from __future__ import annotations

import datetime
import select
import socket
import time

from tutorial.sandbox.api import kinds
from tutorial.sandbox.api.apirequest import ApiError, Handler, Request
from tutorial.sandbox.kubelet import logs, servedlogs

FOLLOW_POLL = 0.25  # seconds between looks at the pod while following


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def pick_container(pod: dict, wanted: str) -> dict:
    """The container the request names (validateContainer's rules and words)."""
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers, inits = spec.get("containers") or [], spec.get("initContainers") or []
    if not wanted:
        if len(containers) == 1:
            return containers[0]
        names = "[" + " ".join(c.get("name", "") for c in containers) + "]"
        extra = (" or one of the init containers: [" + " ".join(c.get("name", "") for c in inits) + "]") if inits else ""
        raise _bad(f"a container name must be specified for pod {name}, choose one of: {names}{extra}")
    found = next((c for c in containers + inits if c.get("name") == wanted), None)
    if found is None:
        raise _bad(f"container {wanted} is not valid for pod {name}")
    return found


def _status_of(pod: dict, container: str) -> dict:
    status = pod.get("status") or {}
    every = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    return next((s for s in every if s.get("name") == container), {})


def _window(pod: dict, cname: str, previous: bool) -> tuple[datetime.datetime, datetime.datetime, bool] | None:
    """(start, end, still running) of the container whose log is asked; None for an empty log."""
    cs = _status_of(pod, cname)
    pod_name = pod["metadata"]["name"]
    last = (cs.get("lastState") or {}).get("terminated")
    if previous:
        if not last:
            raise _bad(f'previous terminated container "{cname}" in pod "{pod_name}" not found')
        return logs.parse_time(last.get("startedAt")) or _now(), logs.parse_time(last.get("finishedAt")) or _now(), False
    if not (pod.get("spec") or {}).get("nodeName"):
        return None
    state = cs.get("state") or {"waiting": {"reason": "ContainerCreating"}}
    if "running" in state:
        return logs.parse_time(state["running"].get("startedAt")) or _now(), _now(), True
    if "terminated" in state:
        t = state["terminated"]
        return logs.parse_time(t.get("startedAt")) or _now(), logs.parse_time(t.get("finishedAt")) or _now(), False
    reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
    if last:  # CrashLoopBackOff: the kubelet shows the container that last ran
        return logs.parse_time(last.get("startedAt")) or _now(), logs.parse_time(last.get("finishedAt")) or _now(), False
    if reason in ("ErrImagePull", "ImagePullBackOff"):
        reason = "trying and failing to pull image"
    raise _bad(f'container "{cname}" in pod "{pod_name}" is waiting to start: {reason}')


def _main_name(pod: dict) -> str | None:
    return ((pod.get("spec") or {}).get("containers") or [{}])[0].get("name")


def _lines(pod: dict, container: dict, start, end, current: bool) -> list[logs.Line]:
    lines = logs.container_lines(pod, container, start, end)
    main = _main_name(pod)
    extra = ((pod.get("metadata") or {}).get("annotations") or {}).get(kinds.LOG_ANNOTATION)
    if current and extra and container.get("name") == main:  # what the simulated apps logged later
        lines += [(end, text) for text in extra.splitlines()]
    if current and container.get("name") == main:  # requests the workload served (servedlogs.py)
        served = [(t, text) for t, text in servedlogs.lines(pod["metadata"].get("uid", "")) if start <= t <= end]
        lines = sorted(lines + served, key=lambda line: line[0])
    return lines


def _select(req: Request, lines: list[logs.Line]) -> list[logs.Line]:
    """--since-time / --since / --tail as the kubelet applies them."""
    since = logs.parse_time(req.q("sinceTime").split(".")[0].rstrip("Z") + "Z") if req.q("sinceTime") else None
    if req.q("sinceSeconds"):
        try:
            since = _now() - datetime.timedelta(seconds=int(req.q("sinceSeconds")))
        except ValueError:
            raise _bad("sinceSeconds must be a whole number") from None
    if since is not None:
        lines = [(t, text) for t, text in lines if t >= since]
    if req.q("tailLines"):
        try:
            tail = int(req.q("tailLines"))
        except ValueError:
            raise _bad("tailLines must be a whole number") from None
        lines = lines[-tail:] if tail > 0 else ([] if tail == 0 else lines)
    return lines


def _render(req: Request, lines: list[logs.Line]) -> bytes:
    stamp = req.q("timestamps") in ("true", "1")
    text = "".join((f"{t.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z " if stamp else "") + line + "\n" for t, line in lines)
    data = text.encode()
    if req.q("limitBytes"):
        data = data[:max(int(req.q("limitBytes") or 0), 0)]
    return data


def serve(h: Handler, req: Request, pod: dict) -> None:
    """Answer a pods/log request (plain text, or a chunked stream with follow=true)."""
    container = pick_container(pod, req.q("container"))
    previous = req.q("previous") in ("true", "1")
    window = _window(pod, container.get("name", ""), previous)
    if window is None:
        return h.send_bytes(200, b"", "text/plain")
    start, end, running = window
    lines = _select(req, _lines(pod, container, start, end, not previous))
    # an interactive container waits for input nobody can send (attach is not simulated): no follow
    interactive = container.get("stdin") or container.get("tty")
    if not (req.q("follow") in ("true", "1") and running and not previous and not interactive):
        return h.send_bytes(200, _render(req, lines), "text/plain")
    _follow(h, req, pod, container, start, lines)


def _follow(h: Handler, req: Request, pod: dict, container: dict, start, sent: list[logs.Line]) -> None:
    """Stream the lines, then new ones as they come, until the container stops or the client goes."""
    h._streaming = True
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    if sent:
        h.send_chunk(_render(req, sent))
    last = sent[-1][0] if sent else start
    uid, ns, name = pod["metadata"]["uid"], pod["metadata"].get("namespace"), pod["metadata"]["name"]
    while not h.api.stopping.is_set() and not _client_gone(h.connection):
        current = h.api.store.get(("", "pods"), ns, name)
        if current is None or current["metadata"]["uid"] != uid or current["metadata"].get("deletionTimestamp"):
            break
        state = _status_of(current, container.get("name", "")).get("state") or {}
        if "running" not in state or logs.parse_time(state["running"].get("startedAt")) != start:
            break  # the container exited (or restarted): `logs -f` ends with it
        served = servedlogs.lines(uid) if container.get("name") == _main_name(current) else []
        every = sorted(logs.container_lines(current, container, start, _now()) + served, key=lambda line: line[0])
        fresh = [(t, text) for t, text in every if t > last]
        if fresh:
            h.send_chunk(_render(req, fresh))
            last = fresh[-1][0]
        time.sleep(FOLLOW_POLL)
    h.end_stream()


def _client_gone(conn: socket.socket) -> bool:
    """True when the client closed its side (readable with nothing to read)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def written_since(pod: dict, container: dict, since: datetime.datetime) -> list[logs.Line] | None:
    """What the running container wrote after `since` (what `kubectl attach` shows); None once it stopped."""
    cs = _status_of(pod, container.get("name", ""))
    running = (cs.get("state") or {}).get("running")
    if running is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
        return None
    start = logs.parse_time(running.get("startedAt")) or _now()
    return [(t, text) for t, text in _lines(pod, container, start, _now(), True) if t > since]
