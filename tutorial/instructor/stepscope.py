"""What a lesson step touches, read from its commands, manifests and checks (no cluster needed).

The journal snapshots only the namespaces a step names (listing every namespace of a big
cluster before each step would be slow), skips steps that only read, and reports as
"pre-existing" only objects the step is about.
"""

from __future__ import annotations

import functools
import re

# First argument of a command that only reads: a step made only of these changes nothing.
READ_VERBS = {
    "kubectl": {"get", "describe", "version", "cluster-info", "wait", "logs", "api-resources", "explain",
                "top", "auth", "config", "events", "diff"},
    "helm": {"version", "list", "ls", "status", "repo", "search", "get", "show", "template", "history", "env"},
    "istioctl": {"version", "analyze", "proxy-status", "x", "verify-install"},
}
# Reads that only show something to a learner (not `kubectl wait`, not `helm repo add`).
DISPLAY_VERBS = {"kubectl": {"get", "describe", "version", "cluster-info", "logs", "api-resources", "explain"},
                 "helm": {"version", "list", "ls", "status", "search", "show", "history"},
                 "istioctl": {"version", "analyze", "proxy-status"}}


def program_and_verb(argv: list[str]) -> tuple[str, str]:
    """('kubectl', 'get') for ['kubectl', '-n', 'x', 'get', ...]: the tool and its first word."""
    program = argv[0].rsplit("/", 1)[-1] if argv else ""
    words = iter(argv[1:])
    for arg in words:
        if arg in ("-n", "--namespace", "--context", "--kube-context", "--kubeconfig"):
            next(words, None)  # the flag's value is not the verb
        elif not arg.startswith("-"):
            return program, arg
    return program, ""


def display_only(argv: list[str]) -> bool:
    program, verb = program_and_verb(argv)
    return verb in DISPLAY_VERBS.get(program, set())


def namespaces_of(engine, step) -> set[str]:
    """Namespaces a step names: -n/--namespace in its commands, its manifests, its checks."""
    found: set[str] = set()
    for solve in (False, True):
        for prepared in engine.prepare(step, solve=solve):
            found |= _argv_namespaces(list(prepared.spec.argv))
            if prepared.spec.stdin:
                found |= _manifest_namespaces(prepared.spec.stdin)
    for manifest in step.manifests:
        try:
            found |= _manifest_namespaces(manifest.text)
        except (OSError, ValueError):
            continue
    for chk in step.checks:
        params = engine.check_params(step, chk.params)
        if params.get("namespace"):
            found.add(str(params["namespace"]))
        if chk.kind == "namespace_exists" and params.get("name"):
            found.add(str(params["name"]))
    return {ns for ns in found if re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", ns)}


def _argv_namespaces(argv: list[str]) -> set[str]:
    found = set()
    for i, arg in enumerate(argv):
        if arg in ("-n", "--namespace") and i + 1 < len(argv):
            found.add(argv[i + 1])
        elif arg.startswith("--namespace="):
            found.add(arg.split("=", 1)[1])
    return found


@functools.lru_cache(maxsize=256)
def yaml_documents(text: str) -> tuple:
    """The YAML documents of a manifest, parsed once per text (callers must not change them): every
    cluster of a fleet renders the same manifests, and the journal asks about each step before
    and after it runs."""
    from tutorial.lessons.safeyaml import fast_load_all

    return tuple(fast_load_all(text))


def _manifest_namespaces(text: str) -> set[str]:
    import yaml

    found = set()
    try:
        for doc in yaml_documents(text):
            if isinstance(doc, dict):
                meta = doc.get("metadata") or {}
                if meta.get("namespace"):
                    found.add(str(meta["namespace"]))
                if doc.get("kind") == "Namespace" and meta.get("name"):
                    found.add(str(meta["name"]))
    except yaml.YAMLError:
        pass
    return found


def changes_cluster(engine, step) -> bool:
    """False when every command of the step (and of its solve) only reads."""
    for solve in (False, True):
        for prepared in engine.prepare(step, solve=solve):
            if prepared.show_only:
                continue
            program, verb = program_and_verb(list(prepared.spec.argv))
            if verb not in READ_VERBS.get(program, set()):
                return True
    return False


def interest(engine, step) -> set[tuple[str, str | None]]:
    """(kind, name) pairs the step names in manifests, checks and helm commands: what 'kept' reports."""
    import yaml

    found: set[tuple[str, str | None]] = set()
    for manifest in step.manifests:
        try:
            docs = yaml_documents(manifest.text)
        except (OSError, ValueError, yaml.YAMLError):
            continue
        found |= {(d.get("kind"), (d.get("metadata") or {}).get("name")) for d in docs if isinstance(d, dict)}
    for chk in step.checks:
        p = engine.check_params(step, chk.params)
        found |= CHECK_INTEREST.get(chk.kind, lambda p: set())(p)
    for solve in (False, True):
        for prepared in engine.prepare(step, solve=solve):
            found |= _helm_release(list(prepared.spec.argv))
    return found


CHECK_INTEREST = {
    "namespace_exists": lambda p: {("Namespace", p.get("name"))},
    "crd_established": lambda p: {("CustomResourceDefinition", n) for n in p.get("names", [])},
    "deployment_available": lambda p: {("Deployment", p.get("name"))} if p.get("name") else set(),
    "resource_exists": lambda p: {(p.get("object_kind"), p.get("name"))},
    "condition": lambda p: {(p.get("object_kind"), p.get("name"))},
    "gateway_programmed": lambda p: {("Gateway", p.get("name"))},
    "listener_attached_routes": lambda p: {("Gateway", p.get("gateway"))},
    "route_accepted": lambda p: {(p.get("kind", "HTTPRoute"), p.get("name"))},
}


def _helm_release(argv: list[str]) -> set[tuple[str, str | None]]:
    """("HelmRelease", NAME) for `helm install NAME ...` and `helm upgrade [--install] NAME ...`."""
    if not argv or argv[0].rsplit("/", 1)[-1] != "helm":
        return set()
    words = [a for a in argv[1:] if not a.startswith("-")]
    if words and words[0] in ("install", "upgrade") and len(words) > 1:
        return {("HelmRelease", words[1])}
    return set()
