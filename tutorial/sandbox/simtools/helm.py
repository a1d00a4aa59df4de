"""Simulated `helm` (v3) for the sandbox: repo, install, upgrade --install, uninstall, list, status, version.

Charts are the Istio 1.27 ones from `charts.py`; releases are stored as Helm stores them. Output
mimics Helm's; every run first prints a line on stderr saying the tool is simulated.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
import time

from tutorial.sandbox.simtools import charts, releases
from tutorial.sandbox.simtools.kube import ConfigError, Kube, KubeError, connect

BANNER = "(simulated helm for the gateway-tutorial sandbox)"
HELM_VERSION = 'version.BuildInfo{Version:"v3.16.3", GitCommit:"simulated", GitTreeState:"clean", GoVersion:"go1.22.7"}'
HELM_SHORT_VERSION = "v3.16.3+gsimulated"


class HelmError(Exception):
    """A failure printed as `Error: ...` with exit code 1, like Helm."""


def _repo_file() -> str:
    env = os.environ.get("HELM_REPOSITORY_CONFIG")
    if env:
        return env
    from tutorial.paths import state_dir

    return str(state_dir() / "sandbox" / "helm" / "repositories.yaml")


def _repos() -> dict[str, str]:
    from tutorial.lessons.safeyaml import fast_load_all

    path = _repo_file()
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        docs = fast_load_all(fh.read())
    data = docs[0] if docs else None
    return {r["name"]: r["url"] for r in (data or {}).get("repositories") or []}


def _save_repos(repos: dict[str, str]) -> None:
    import yaml

    path = _repo_file()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    data = {"apiVersion": "", "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "repositories": [{"name": n, "url": u} for n, u in repos.items()]}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(yaml.safe_dump(data, sort_keys=False))


def cmd_repo(args: argparse.Namespace, out) -> int:
    repos = _repos()
    if args.repo_cmd == "add":
        if repos.get(args.name) == args.url:
            print(f'"{args.name}" already exists with the same configuration, skipping', file=out)
            return 0
        repos[args.name] = args.url
        _save_repos(repos)
        print(f'"{args.name}" has been added to your repositories', file=out)
    elif args.repo_cmd == "update":
        if not repos:
            raise HelmError("no repositories found. You must add one before updating")
        print("Hang tight while we grab the latest from your chart repositories...", file=out)
        for name in repos:
            print(f'...Successfully got an update from the "{name}" chart repository', file=out)
        print("Update Complete. \u2388Happy Helming!\u2388", file=out)
    elif args.repo_cmd == "list":
        if not repos:
            raise HelmError("no repositories to show")
        _table([["NAME", "URL"], *[[n, u] for n, u in repos.items()]], out)
    elif args.repo_cmd == "remove":
        if args.name not in repos:
            raise HelmError(f'no repo named "{args.name}" found')
        del repos[args.name]
        _save_repos(repos)
        print(f'"{args.name}" has been removed from your repositories', file=out)
    return 0


def _table(rows: list[list[str]], out) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("\t".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


def _parse_set(items: list[str]) -> dict:
    values: dict = {}
    for item in items:
        for pair in item.split(","):
            key, _, raw = pair.partition("=")
            cur = values
            parts = key.strip().split(".")
            for part in parts[:-1]:
                cur = cur.setdefault(part, {})
            cur[parts[-1]] = {"true": True, "false": False}.get(raw, int(raw) if raw.isdigit() else raw)
    return values


def _duration(text: str) -> float:
    total, found = 0.0, False
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(num) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        found = True
    if not found:
        raise HelmError(f'invalid argument "{text}" for "--timeout" flag: time: missing unit in duration "{text}"')
    return total


def _chart(ref: str, verb: str) -> str:
    repo, _, name = ref.partition("/")
    if not name:
        raise HelmError(f"{verb} FAILED: path \"{ref}\" not found")
    if repo not in _repos():
        raise HelmError(f"{verb} FAILED: repo {repo} not found")
    if name not in charts.CHARTS:
        raise HelmError(f'{verb} FAILED: chart "{name}" matching  not found in {repo} index. '
                        "(try 'helm repo update'): no chart name found")
    return name


def _ensure_namespace(kube: Kube, namespace: str, create: bool, verb: str) -> None:
    if kube.get("Namespace", None, namespace) is not None:
        return
    if not create:
        raise HelmError(f'{verb} FAILED: create: failed to create: namespaces "{namespace}" not found')
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})


def _apply_all(kube: Kube, objects: list[dict], old: list[dict]) -> None:
    wanted = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects}
    for obj in objects:
        kube.apply(obj)
    for obj in old:
        ident = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if ident not in wanted and _deletable(obj):
            kube.delete(*ident)


def _deletable(obj: dict) -> bool:
    return (obj["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") != "keep"


def _ready(kube: Kube, objects: list[dict]) -> bool:
    """Helm's --wait: Deployments fully ready, LoadBalancer Services with an ingress address."""
    for obj in objects:
        m = obj["metadata"]
        if obj["kind"] == "Deployment":
            live = kube.get("Deployment", m["namespace"], m["name"]) or {}
            want = (live.get("spec") or {}).get("replicas", 1)
            if int((live.get("status") or {}).get("readyReplicas") or 0) < want:
                return False
        elif obj["kind"] == "Service" and (obj.get("spec") or {}).get("type") == "LoadBalancer":
            live = kube.get("Service", m["namespace"], m["name"]) or {}
            if not ((live.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
                return False
    return True


# --wait looks again after 0.25 s, then twice as long each time up to Helm's own 2 s: quick when
# the pods are (the sandbox starts them in about a second), and on a slow or busy cluster no more
# requests than the real helm sends (every 0.25 s throughout was 8 times Helm's rate, on every
# cluster of a fleet prepare while its servers were slowest).
WAIT_FIRST, WAIT_MOST = 0.25, 2.0


def _wait(kube: Kube, objects: list[dict], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = WAIT_FIRST
    while not _ready(kube, objects):
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(WAIT_MOST, pause * 2)
    return True


def _prior(args: argparse.Namespace, out, kube: Kube, namespace: str, upgrade: bool) -> tuple[dict | None, str]:
    """The release being upgraded (or None) and the verb Helm uses in its errors."""
    prior = releases.latest(kube, namespace, args.name)
    if prior and prior["info"]["status"] == "uninstalled":
        prior = None
    if not upgrade and prior:
        raise HelmError("INSTALLATION FAILED: cannot re-use a name that is still in use")
    if upgrade and not prior and not args.install:
        raise HelmError(f'UPGRADE FAILED: "{args.name}" has no deployed releases')
    if upgrade and not prior:
        print(f'Release "{args.name}" does not exist. Installing it now.', file=out)
    return prior, "UPGRADE" if prior else "INSTALLATION"


def _merged(base: dict, over: dict) -> dict:
    """Nested values: `over` wins, maps are merged key by key (helm's --reuse-values with --set)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def cmd_install(args: argparse.Namespace, out, kube: Kube, upgrade: bool) -> int:
    namespace = args.namespace or kube.namespace
    chart = _chart(args.chart, "UPGRADE" if upgrade else "INSTALLATION")
    version = (args.version or charts.VERSION).lstrip("v")
    if not re.fullmatch(r"1\.\d+\.\d+(-[\w.]+)?", version):
        raise HelmError(f'{"UPGRADE" if upgrade else "INSTALLATION"} FAILED: chart "{chart}" version '
                        f'"{args.version}" not found in istio repository')
    prior, verb = _prior(args, out, kube, namespace, upgrade)
    _ensure_namespace(kube, namespace, args.create_namespace, verb)
    values = _parse_set(args.set or [])
    if getattr(args, "reuse_values", False) and prior:  # like helm: the last release's values, then --set
        values = _merged(prior.get("config") or {}, values)
    objects = charts.RENDERERS[chart](args.name, namespace, values, version)
    _apply_all(kube, objects, releases.manifest_objects(prior) if prior else [])
    record = releases.new_record(args.name, namespace, chart, version, values, objects,
                                 (prior["version"] + 1) if prior else 1,
                                 charts.NOTES[chart].format(release=args.name, namespace=namespace),
                                 prior["info"]["first_deployed"] if prior else None)
    if args.wait and not _wait(kube, objects, _duration(args.timeout)):
        record["info"].update(status="failed", description=f"Release \"{args.name}\" failed: context deadline exceeded")
        releases.save(kube, record)
        raise HelmError(f"{verb} FAILED: context deadline exceeded")
    releases.save(kube, record)
    if prior:
        print(f'Release "{args.name}" has been upgraded. Happy Helming!', file=out)
    _print_status(record, out)
    return 0


def _print_status(record: dict, out) -> None:
    stamp = datetime.datetime.fromisoformat(record["info"]["last_deployed"])
    print(f"NAME: {record['name']}", file=out)
    print(f"LAST DEPLOYED: {stamp.strftime('%a %b %d %H:%M:%S %Y')}", file=out)
    print(f"NAMESPACE: {record['namespace']}", file=out)
    print(f"STATUS: {record['info']['status']}", file=out)
    print(f"REVISION: {record['version']}", file=out)
    print("TEST SUITE: None", file=out)
    print("NOTES:", file=out)
    print(record["info"].get("notes", "").rstrip(), file=out)


def cmd_uninstall(args: argparse.Namespace, out, kube: Kube) -> int:
    namespace = args.namespace or kube.namespace
    for name in args.names:
        record = releases.latest(kube, namespace, name)
        if record is None:
            raise HelmError(f"uninstall: Release not loaded: {name}: release: not found")
        for obj in reversed(releases.manifest_objects(record)):
            if _deletable(obj):
                kube.delete(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        releases.forget(kube, namespace, name)
        print(f'release "{name}" uninstalled', file=out)
    return 0


def cmd_list(args: argparse.Namespace, out, kube: Kube) -> int:
    namespace = None if args.all_namespaces else (args.namespace or kube.namespace)
    rows = [["NAME", "NAMESPACE", "REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION"]]
    for rec in sorted(releases.deployed(kube, namespace), key=lambda r: r["name"]):
        meta = rec["chart"]["metadata"]
        stamp = datetime.datetime.fromisoformat(rec["info"]["last_deployed"])
        rows.append([rec["name"], rec["namespace"], str(rec["version"]), releases.helm_time(stamp),
                     rec["info"]["status"], f"{meta['name']}-{meta['version']}", meta["appVersion"]])
    _table(rows, out)
    return 0


def cmd_status(args: argparse.Namespace, out, kube: Kube) -> int:
    record = releases.latest(kube, args.namespace or kube.namespace, args.name)
    if record is None:
        raise HelmError("release: not found")
    _print_status(record, out)
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse that fails like Helm (`Error: ...`, exit 1) instead of printing usage."""

    def error(self, message: str):  # noqa: D401 - argparse hook
        raise HelmError(message.replace("unrecognized arguments:", "unknown flag:"))


COMMANDS = {"repo", "install", "upgrade", "uninstall", "delete", "del", "un", "list", "ls", "status", "version"}


def _global_flags(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Helm's global flags, accepted before or after the subcommand like the real helm's.

    Subcommands suppress their defaults so a flag given before the subcommand is kept.
    """
    default = None if top else argparse.SUPPRESS
    p.add_argument("--kubeconfig", default=default)
    p.add_argument("--kube-context", default=default)
    p.add_argument("-n", "--namespace", default=default)
    p.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS)


def _install_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    p.add_argument("chart")
    p.add_argument("--set", action="append")
    p.add_argument("--version")
    p.add_argument("--reuse-values", action="store_true")
    p.add_argument("--create-namespace", action="store_true")
    p.add_argument("--wait", action="store_true")
    p.add_argument("--timeout", default="5m0s")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="helm", add_help=True)
    subs = parser.add_subparsers(dest="cmd", parser_class=_Parser)
    repo = subs.add_parser("repo")
    repo_subs = repo.add_subparsers(dest="repo_cmd", parser_class=_Parser)
    add = repo_subs.add_parser("add")
    add.add_argument("name")
    add.add_argument("url")
    add.add_argument("--force-update", action="store_true")
    repo_subs.add_parser("update").add_argument("names", nargs="*")
    repo_subs.add_parser("list")
    repo_subs.add_parser("remove").add_argument("name")
    _install_flags(subs.add_parser("install"))
    up = subs.add_parser("upgrade")
    _install_flags(up)
    up.add_argument("-i", "--install", action="store_true")
    for alias in ("uninstall", "delete", "del", "un"):
        subs.add_parser(alias).add_argument("names", nargs="+")
    for alias in ("list", "ls"):
        subs.add_parser(alias).add_argument("-A", "--all-namespaces", action="store_true")
    subs.add_parser("status").add_argument("name")
    version = subs.add_parser("version")
    version.add_argument("--short", action="store_true")
    version.add_argument("--template")
    _global_flags(parser, top=True)
    for sub in [*subs.choices.values(), *repo_subs.choices.values()]:
        _global_flags(sub)
    return parser


def _dispatch(args: argparse.Namespace, out) -> int:
    if args.cmd == "version":
        print(HELM_SHORT_VERSION if args.short else HELM_VERSION, file=out)
        return 0
    if args.cmd == "repo":
        if not args.repo_cmd:
            raise HelmError('"helm repo" requires a subcommand (add, list, remove, update)')
        return cmd_repo(args, out)
    kube = connect(args.kubeconfig, args.kube_context)
    if args.cmd in ("install", "upgrade"):
        return cmd_install(args, out, kube, upgrade=args.cmd == "upgrade")
    if args.cmd in ("uninstall", "delete", "del", "un"):
        return cmd_uninstall(args, out, kube)
    if args.cmd in ("list", "ls"):
        return cmd_list(args, out, kube)
    return cmd_status(args, out, kube)


VALUE_FLAGS = {"--kubeconfig", "--kube-context", "-n", "--namespace"}


def _command_word(argv: list[str]) -> str | None:
    """The subcommand, skipping global flags (and their values) given before it."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in VALUE_FLAGS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None, out=None, err=None) -> int:
    """Run one helm command; returns the exit code (0 ok, 1 error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = out or sys.stdout, err or sys.stderr
    print(BANNER, file=err)
    first = _command_word(argv)
    try:
        if first is None:
            raise HelmError("simulated helm: give a command (repo, install, upgrade, uninstall, list, status, version)")
        if first not in COMMANDS:
            raise HelmError(f'unknown command "{first}" for "helm"\nRun \'helm --help\' for usage.')
        return _dispatch(build_parser().parse_args(argv), out)
    except HelmError as exc:
        print(f"Error: {exc}", file=err)
    except ConfigError as exc:
        print(f"Error: {exc}", file=err)
    except KubeError as exc:
        print(f"Error: {exc.message}", file=err)
    return 1
