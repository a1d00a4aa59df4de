"""One kubernetes ApiClient per cluster, with plain-dict reads and watch-driven waiting.

Checks read many kinds (built-in and custom) the same way, so this speaks REST with JSON
dicts through the real client's configuration (auth plugins, TLS, proxies) instead of the
typed models. Waiting is driven by the watch API: list, then watch from that resourceVersion.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

from tutorial.cluster.kinds import BUILTIN_KINDS, KindTable, served_kinds
from tutorial.cluster.retry import (RETRY_BUDGET, RETRY_FIRST, Retrier, dropped as _dropped, retry_after as _retry_after,
                                    urllib3_retries)
from tutorial.cluster.tls import share_context

WATCH_CHUNK = 20  # seconds per watch request; re-listing after each is cheap and robust
# Answers worth asking again, as client-go does: overload (429) and server-side trouble (5xx),
# and a connection the server dropped mid-request. Refused connections are not: the cluster is gone.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class ClusterError(Exception):
    """The cluster could not be asked: unreachable, unauthorised, or it answered an error."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "", body: str = "",
                 reset: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body
        self.reset = reset              # the server dropped the connection mid-request
        self.retry_after = retry_after  # seconds, from a Retry-After header

    @property
    def unreachable(self) -> bool:
        return self.status is None and not self.reset

    @property
    def transient(self) -> bool:
        """Worth asking again: 429, 5xx or a dropped connection (never a refused one)."""
        return self.reset or self.status in TRANSIENT_STATUSES


@dataclass(frozen=True)
class ResourceRef:
    """Where a kind lives: API path prefix and plural name."""

    api_version: str
    plural: str
    namespaced: bool
    kind: str

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


@dataclass
class WaitOutcome:
    """What a wait saw last: whether the predicate held, and the objects it judged."""

    passed: bool
    items: list[dict] = field(default_factory=list)
    error: ClusterError | None = None
    cancelled: bool = False


def load_configuration(kubeconfig: str | None, context: str | None, *, config_dict=None,
                       base_path: str | None = None):
    """A kubernetes Configuration for one context, loaded as the kubernetes client loads it.

    kubeconfig may list several files (like KUBECONFIG); config_dict is an already parsed
    kubeconfig (relative paths resolve against base_path). One difference from the client's
    own loader: a bearer token that never expires gets no refresh hook. The client calls that
    hook before every request, and for a static token it only re-applies the same settings
    (re-reading every proxy variable of the environment each time); tokens with an expiry
    (exec plugins, auth providers) keep it and are refreshed as before.
    """
    import os

    from kubernetes.client import Configuration
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    configuration = type.__call__(Configuration)  # as kubernetes does: not a copy of the default
    if config_dict is None:
        merged = KubeConfigMerger(kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config")
        if merged.config is None:
            raise ConfigException("Invalid kube-config file. No configuration found.")
        config_dict, base_path = merged.config, None
    loader = KubeConfigLoader(config_dict=config_dict, active_context=context, config_base_path=base_path)
    loader.load_and_set(configuration)
    if "expiry" not in vars(loader):
        configuration.refresh_api_key_hook = None
    configuration.retries = urllib3_retries()  # 429/503 are the Retrier's to ask again
    return configuration


class ClusterClient:
    """Reads and watches one cluster; thread-safe, shared by every check of that cluster."""

    def __init__(self, kubeconfig: str | None, context: str | None):
        self.kubeconfig = kubeconfig
        self.context = context
        self._api = None
        self._lock = threading.Lock()
        self._kinds = KindTable()
        self._shared = None  # SharedReads while inside shared_reads()

    # -- connection -------------------------------------------------------------------
    @property
    def api(self):
        with self._lock:
            if self._api is None:
                from kubernetes.client import ApiClient

                try:
                    configuration = load_configuration(self.kubeconfig, self.context)
                except Exception as exc:  # ConfigException, file errors, bad YAML
                    raise ClusterError(f"cannot load kubeconfig: {exc}") from exc
                self._api = ApiClient(configuration=configuration)
                share_context(self._api)
            return self._api

    @classmethod
    def from_configuration(cls, configuration, kubeconfig: str | None, context: str | None) -> "ClusterClient":
        """A client over an already loaded kubernetes Configuration (no kubeconfig parse)."""
        from kubernetes.client import ApiClient

        client = cls(kubeconfig, context)
        client._api = ApiClient(configuration=configuration)
        share_context(client._api)
        return client

    def sibling(self) -> "ClusterClient":
        """A client on the same cluster with its own connection pool; configuration and discovery
        are shared (re-reading a workshop's 30-context kubeconfig costs a YAML parse each time)."""
        twin = ClusterClient.from_configuration(self.api.configuration, self.kubeconfig, self.context)
        twin._kinds = self._kinds  # the same cluster serves the same kinds
        return twin

    @property
    def server(self) -> str:
        return self.api.configuration.host

    def close(self) -> None:
        with self._lock:
            if self._api is not None:
                self._api.close()
                self._api = None

    def _call(self, path: str, query: list[tuple[str, str]] | None = None, *, timeout: float | tuple = 15.0,
              retry: Retrier | None = None):
        """GET path; the raw urllib3 response (body not read yet), or ClusterError. Transient
        errors are asked again until retry's deadline (default: RETRY_BUDGET seconds)."""
        retry = retry or Retrier(time.monotonic() + RETRY_BUDGET)
        while True:
            try:
                return self._call_once(path, query, timeout)
            except ClusterError as exc:
                if not retry.wait(exc):
                    raise retry.final(exc) from exc

    def _call_once(self, path: str, query, timeout):
        from kubernetes.client.exceptions import ApiException

        api = self.api
        try:
            if hasattr(api, "param_serialize"):  # kubernetes >= 37 (new generator)
                method, url, headers, _, _ = api.param_serialize(
                    "GET", path, query_params=query or [], header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"])
                resp = api.call_api(method, url, header_params=headers, _request_timeout=timeout).response
            else:
                resp = api.call_api(
                    path, "GET", query_params=query or [], header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"], _preload_content=False,
                    _return_http_data_only=True, _request_timeout=timeout)
        except ApiException as exc:
            raise _api_error(exc.status, exc.reason, exc.body, exc.headers) from exc
        except Exception as exc:  # urllib3 connection errors, TLS errors, DNS
            raise ClusterError(f"cannot reach the API server at {api.configuration.host}: {_short(exc)}",
                               reset=_dropped(exc)) from exc
        if resp.status >= 400:
            body = resp.data
            raise _api_error(resp.status, resp.reason, body.decode("utf-8", "replace") if body else "", resp.headers)
        return resp

    def get_json(self, path: str, query: list[tuple[str, str]] | None = None, *, retry: Retrier | None = None) -> dict:
        resp = self._call(path, query, retry=retry)
        try:
            return json.loads(resp.data or b"{}")
        except ValueError as exc:
            raise ClusterError(f"the API server sent something that is not JSON for {path}", status=resp.status) from exc

    # -- discovery --------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> ResourceRef:
        """Map apiVersion+kind to its REST path: built-in kinds from BUILTIN_KINDS, the rest by
        asking the cluster's discovery (once per API group version)."""
        key = (api_version, kind)
        if key in BUILTIN_KINDS:
            plural, namespaced = BUILTIN_KINDS[key]
            return ResourceRef(api_version, plural, namespaced, kind)
        if key not in self._kinds.known:
            fetch = lambda version: served_kinds(self.get_json, version)  # noqa: E731
            shared = self._shared
            shared.discover(self._kinds, api_version, fetch) if shared else self._kinds.discover(api_version, fetch)
            if key not in self._kinds.known:
                raise ClusterError(f'no kind "{kind}" is served in {api_version}', status=404, reason="NotFound")
        return self._kinds.known[key]

    def forget_discovery(self) -> None:
        self._kinds.clear()

    @contextmanager
    def shared_reads(self):
        """Within: one list per kind and namespace answers every read of it (cluster/shared.py).
        For one look at a cluster (status); a scope inside another one shares the outer one."""
        from tutorial.cluster.shared import SharedReads

        if self._shared is not None:
            yield self._shared
            return
        self._shared = SharedReads()
        try:
            yield self._shared
        finally:
            self._shared = None

    # -- reads ------------------------------------------------------------------------
    def get(self, ref: ResourceRef, namespace: str | None, name: str) -> dict | None:
        if self._shared is not None and (namespace or not ref.namespaced):
            found = self._shared.list(self.get_json, ref, namespace, None, f"metadata.name={name}", None)
            if found is not None:  # as a GET answers: with kind and apiVersion (list items may lack them)
                return {"apiVersion": ref.api_version, "kind": ref.kind, **found[0][0]} if found[0] else None
        try:
            return self.get_json(ref.path(namespace, name))
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, ref: ResourceRef, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None, retry: Retrier | None = None) -> tuple[list[dict], str]:
        if self._shared is not None:
            found = self._shared.list(self.get_json, ref, namespace, label_selector, field_selector, retry)
            if found is not None:
                return found
        query = _selectors(label_selector, field_selector)
        doc = self.get_json(ref.path(namespace), query, retry=retry)
        return doc.get("items", []), doc.get("metadata", {}).get("resourceVersion", "")

    def watch(self, ref: ResourceRef, namespace: str | None, resource_version: str, *,
              label_selector: str | None = None, field_selector: str | None = None,
              seconds: int = WATCH_CHUNK, cancel: threading.Event | None = None) -> Iterator[tuple[str, dict]]:
        """Yield (type, object) events until the server ends the watch after `seconds`.

        Setting `cancel` shuts the stream down at once, from whatever thread sets it.
        """
        query = _selectors(label_selector, field_selector) + [
            ("watch", "true"), ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"), ("timeoutSeconds", str(seconds))]
        resp = self._call(ref.path(namespace), query, timeout=(5.0, seconds + 10.0))
        if cancel is not None:
            threading.Thread(target=_shutdown_on, args=(cancel, resp, seconds + 1.0),
                             daemon=True, name="watch-cancel").start()
        try:
            yield from _read_events(resp)
        finally:
            # A watch body is never read to its end here: close the connection rather than
            # hand a half-read chunked stream back to the pool.
            resp.close()
            resp.release_conn()

    def wait_for(self, ref: ResourceRef, namespace: str | None, judge: Callable[[list[dict]], bool], *,
                 timeout: float, name: str | None = None, label_selector: str | None = None,
                 cancel: threading.Event | None = None, on_retry=None) -> WaitOutcome:
        """Wait until judge(current objects) is true, driven by watch events, or the deadline.
        Transient API errors are asked again until the deadline; on_retry(text) hears of each."""
        field_selector = f"metadata.name={name}" if name else None
        deadline = time.monotonic() + timeout
        retry = Retrier(deadline, cancel, on_retry)
        items: dict[str, dict] = {}
        while True:
            try:
                listed, rv = self.list(ref, namespace, label_selector=label_selector, field_selector=field_selector,
                                       retry=retry)
            except ClusterError as exc:
                return WaitOutcome(False, list(items.values()), error=exc)
            items = {_key(o): o for o in listed}
            if judge(list(items.values())):
                return WaitOutcome(True, list(items.values()))
            outcome = self._follow(ref, namespace, rv, items, judge, deadline, cancel,
                                   label_selector, field_selector)
            if outcome is not None:
                return outcome

    def _follow(self, ref, namespace, rv, items, judge, deadline, cancel, label_selector, field_selector):
        """Apply watch events to `items` until judged true, cancelled or out of time (None: relist)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return WaitOutcome(False, list(items.values()))
        seconds = max(1, min(WATCH_CHUNK, int(remaining + 0.999)))
        try:
            for kind, obj in self.watch(ref, namespace, rv, label_selector=label_selector,
                                        field_selector=field_selector, seconds=seconds, cancel=cancel):
                if kind == "ERROR":
                    return None  # e.g. 410 Gone: relist
                if kind in ("ADDED", "MODIFIED"):
                    items[_key(obj)] = obj
                elif kind == "DELETED":
                    items.pop(_key(obj), None)
                if kind != "BOOKMARK" and judge(list(items.values())):
                    return WaitOutcome(True, list(items.values()))
        except ClusterError as exc:
            if exc.unreachable or time.monotonic() >= deadline:
                return WaitOutcome(False, list(items.values()), error=exc)
            if exc.transient:
                time.sleep(min(RETRY_FIRST, max(0.0, deadline - time.monotonic())))  # then relist
        if cancel is not None and cancel.is_set():
            return WaitOutcome(False, list(items.values()), cancelled=True)
        return None if time.monotonic() < deadline else WaitOutcome(False, list(items.values()))


def _shutdown_on(cancel: threading.Event, resp, seconds: float) -> None:
    if cancel.wait(seconds):
        try:
            resp.shutdown()
        except Exception:  # already closed
            pass


def _read_events(resp) -> Iterator[tuple[str, dict]]:
    """Parse newline-delimited watch JSON until the stream ends or drops."""
    import urllib3

    buffer = b""
    while True:
        try:
            chunk = resp.read1(65536)
        except (urllib3.exceptions.HTTPError, OSError, ValueError):
            return  # dropped, timed out or shut down: the caller relists
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                event = json.loads(line)
                yield event.get("type", ""), event.get("object", {})


def _selectors(label_selector: str | None, field_selector: str | None) -> list[tuple[str, str]]:
    query = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    return query


def _key(obj: dict) -> str:
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def _short(exc: Exception) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "no such host"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "x509: the server's certificate is not trusted"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _api_error(status: int, reason: str, body: str, headers=None) -> ClusterError:
    kube_reason, message = "", f"the API server answered {status} {reason}"
    try:
        doc = json.loads(body or "{}")
        kube_reason = doc.get("reason", "")
        message = doc.get("message", message)
    except (ValueError, TypeError, AttributeError):
        pass
    return ClusterError(message, status=status, reason=kube_reason, body=body or "",
                        retry_after=_retry_after(headers) if status == 429 or status == 503 else None)
