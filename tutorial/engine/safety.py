"""May the tutorial act on this cluster? Production-looking contexts, and the rights the lessons need.

A context whose name or server looks like production gets a warning that must be confirmed
before any command runs (patterns in `settings.toml` under the user config directory). The
access reviews tell doctor which lesson steps this identity is not allowed to do.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATTERNS = ("*prod*", "*prd*", "live", "live[0-9]*")
SETTINGS_EXAMPLE = """\
# gateway-tutorial settings
[safety]
# Globs (case-insensitive) matched against the context name, the server URL and each of their
# words (split at anything not a letter or digit). A match asks for confirmation before commands run.
production_patterns = ["*prod*", "*prd*", "live", "live[0-9]*"]
# Contexts never warned about, even when a pattern matches (e.g. "products-lab").
trusted_contexts = []
"""


@dataclass
class Warning:  # noqa: A001 - the brief's name; shadows the builtin only inside this module
    """Why this target looks like production."""

    context: str
    server: str
    matched: str    # the text that matched
    pattern: str

    @property
    def message(self) -> str:
        return (f"The context {self.context} ({self.server}) looks like a production cluster: "
                f"{self.matched!r} matches the pattern {self.pattern!r}. The tutorial installs Istio, CRDs and "
                "a load balancer, and its cleanup deletes namespaces. Use a lab cluster (kind, minikube, k3d) "
                "or --sandbox.")


def config_dir() -> Path:
    """The user config directory; GATEWAY_TUTORIAL_CONFIG_DIR overrides it (tests, labs)."""
    override = os.environ.get("GATEWAY_TUTORIAL_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("gateway-tutorial", appauthor=False))


def settings_path() -> Path:
    return config_dir() / "settings.toml"


def load_settings(path: Path | None = None) -> tuple[list[str], list[str], str]:
    """(patterns, trusted contexts, problem) from the settings file; defaults when absent or broken."""
    import tomllib

    path = path or settings_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")).get("safety") or {}
    except FileNotFoundError:
        return list(DEFAULT_PATTERNS), [], ""
    except (OSError, ValueError) as exc:
        return list(DEFAULT_PATTERNS), [], f"{path}: {exc}; using the default production patterns"
    patterns = data.get("production_patterns", list(DEFAULT_PATTERNS))
    trusted = data.get("trusted_contexts", [])
    if not all(isinstance(p, str) for p in patterns) or not all(isinstance(t, str) for t in trusted):
        return list(DEFAULT_PATTERNS), [], f"{path}: [safety] lists must hold strings; using the defaults"
    return list(patterns), list(trusted), ""


def assess(target, settings: Path | None = None) -> Warning | None:
    """A Warning when the target's context or server looks like production; None for the sandbox."""
    if getattr(target, "sandbox", False):
        return None
    patterns, trusted, _ = load_settings(settings)
    if target.context in trusted:
        return None
    for text in (target.context or "", target.server or ""):
        candidates = [text] + [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
        for pattern in patterns:
            for candidate in candidates:
                if fnmatch.fnmatchcase(candidate.lower(), pattern.lower()):
                    return Warning(target.context, target.server, candidate, pattern)
    return None


def confirm(target, *, allow: str | None = None, settings: Path | None = None,
            stdin=None, out=None) -> bool:
    """True when commands may run: not production-looking, or confirmed by typing the context name.

    `allow` is the value of a command-line `--allow-production CONTEXT`: it confirms when it
    names this context exactly. Without a terminal and without `allow`, the answer is no.
    """
    warning = assess(target, settings)
    if warning is None:
        return True
    stdin, out = stdin or sys.stdin, out or sys.stderr
    print(f"WARNING: {warning.message}", file=out)
    if allow is not None:
        if allow == target.context:
            print(f"Confirmed by --allow-production {allow}.", file=out)
            return True
        print(f"--allow-production {allow} does not name this context ({target.context}).", file=out)
        return False
    if not (hasattr(stdin, "isatty") and stdin.isatty()):
        print(f"Not running commands. To go on anyway, add --allow-production {target.context}.", file=out)
        return False
    print(f"Type the context name ({target.context}) to run commands on it anyway: ", end="", file=out, flush=True)
    answer = stdin.readline().strip()
    if answer != target.context:
        print("Not confirmed; nothing was run.", file=out)
        return False
    return True


# -- what the lessons need the right to do ----------------------------------------------

@dataclass(frozen=True)
class Permission:
    """One verb on one resource that a lesson step needs."""

    verb: str
    group: str
    resource: str
    namespace: str | None
    lesson: str
    skippable_when: str = ""  # a preflight fact that makes the step "verify what you have"

    def attributes(self) -> dict:
        attrs = {"verb": self.verb, "group": self.group, "resource": self.resource}
        if self.namespace:
            attrs["namespace"] = self.namespace
        return attrs

    @property
    def text(self) -> str:
        where = f" in namespace {self.namespace}" if self.namespace else " (cluster-wide)"
        return f"{self.verb} {self.resource}{'.' + self.group if self.group else ''}{where}"


PERMISSIONS = (
    Permission("create", "", "namespaces", None, "1 (Emojivoto)"),
    Permission("create", "apps", "deployments", "emojivoto", "1 (Emojivoto)"),
    Permission("create", "apiextensions.k8s.io", "customresourcedefinitions", None, "2 and 3 (Istio, Gateway API CRDs)",
               "crds_present"),
    Permission("create", "rbac.authorization.k8s.io", "clusterroles", None, "2 (Istio)", "istio_ready"),
    Permission("create", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", None, "2 (Istio)",
               "istio_ready"),
    Permission("create", "gateway.networking.k8s.io", "gatewayclasses", None, "3 (GatewayClass)"),
    Permission("create", "gateway.networking.k8s.io", "gateways", "istio-ingress", "4 (Gateway)"),
    Permission("create", "gateway.networking.k8s.io", "httproutes", "emojivoto", "5 (HTTPRoute)"),
    Permission("create", "", "pods/portforward", "istio-ingress", "6 without a load balancer", "lb_available"),
)


def post_json(client, path: str, body: dict, timeout: float = 15.0) -> dict:
    """POST a JSON body through the ClusterClient's ApiClient (both kubernetes client generations)."""
    from kubernetes.client.exceptions import ApiException

    from tutorial.cluster.client import ClusterError

    api = client.api
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    try:
        if hasattr(api, "param_serialize"):
            method, url, hdrs, data, _ = api.param_serialize("POST", path, header_params=headers, body=body,
                                                             auth_settings=["BearerToken"])
            resp = api.call_api(method, url, header_params=hdrs, body=data, _request_timeout=timeout).response
        else:
            resp = api.call_api(path, "POST", header_params=headers, body=body, auth_settings=["BearerToken"],
                                _preload_content=False, _return_http_data_only=True, _request_timeout=timeout)
    except ApiException as exc:
        raise ClusterError(f"the API server refused {path}: {exc.status} {exc.reason}", status=exc.status) from exc
    except Exception as exc:  # connection trouble
        raise ClusterError(f"cannot reach the API server at {api.configuration.host}: {exc}") from exc
    if resp.status >= 400:
        raise ClusterError(f"the API server answered {resp.status} for {path}", status=resp.status)
    return json.loads(resp.data or b"{}")


def access_reviews(client) -> list[tuple[Permission, bool | None, str]]:
    """(permission, allowed or None when the review itself failed, reason) for every lesson need."""
    from tutorial.cluster.client import ClusterError

    def review(perm: Permission):
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": perm.attributes()}}
        try:
            doc = post_json(client, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
        except ClusterError as exc:
            return perm, None, str(exc)
        status = doc.get("status") or {}
        return perm, bool(status.get("allowed")), status.get("reason", "")

    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="doctor-rbac") as pool:
        return list(pool.map(review, PERMISSIONS))


def rbac_findings(reviews, facts: dict) -> list:
    """Findings for denied permissions (block, or warn when the step becomes "verify"), else one ok."""
    from tutorial.engine.preflight import Finding

    skippable = {"crds_present": bool((facts.get("gateway_api") or {}).get("present")),
                 "istio_ready": bool((facts.get("istio") or {}).get("ready")),
                 "lb_available": facts.get("lb_available") is True}
    out = []
    for perm, allowed, reason in reviews:
        if allowed is None:
            out.append(Finding(f"rbac.{perm.resource}", "warn", "permissions", f"could not ask whether you may "
                               f"{perm.text}: {reason}", f"Lesson {perm.lesson} may fail for lack of rights.",
                               f"`kubectl auth can-i {perm.verb} {perm.resource} "
                               f"{'-n ' + perm.namespace if perm.namespace else '-A'}`"))
        elif not allowed:
            soft = skippable.get(perm.skippable_when, False)
            out.append(Finding(f"rbac.{perm.resource}", "warn" if soft else "block", "permissions",
                               f"you may not {perm.text}" + (f" ({reason})" if reason else ""),
                               f"Lesson {perm.lesson} " + ("only verifies what is already there."
                                                           if soft else "cannot run its commands."),
                               "Ask the cluster's admin for the right (or for cluster-admin on a lab cluster), "
                               "or use a cluster of your own / --sandbox."))
    if not out:
        out.append(Finding("rbac", "ok", "permissions", f"you may do all {len(reviews)} things the lessons do"))
    return out
