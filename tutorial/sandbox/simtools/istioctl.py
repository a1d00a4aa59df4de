"""Simulated `istioctl` 1.27 for the sandbox: install, uninstall --purge, version, analyze.

`install --set profile=minimal` creates what the minimal profile does (Istio CRDs + istiod in
istio-system); `default` adds istio-ingressgateway. Every run first prints on stderr that the
tool is simulated.
"""

from __future__ import annotations

import argparse
import sys
import time

from tutorial.sandbox.simtools import analyze, charts
from tutorial.sandbox.simtools.kube import ConfigError, Kube, KubeError, connect

BANNER = "(simulated istioctl for the gateway-tutorial sandbox)"
NAMESPACE = "istio-system"
OWNER_LABEL = "install.operator.istio.io/owning-resource"
PROFILES = ("minimal", "default", "demo", "empty")
SAIL = r"""        |\
        | \
        |  \
        |   \
      /||    \
     / ||     \
    /  ||      \
   /   ||       \
  /    ||        \
 /     ||         \
/______||__________\
____________________
  \__       _____/
     \_____/
"""


class IstioctlError(Exception):
    """Printed as `Error: ...`, exit 1."""


def _mark(objs: list[dict], component: str) -> list[dict]:
    for obj in objs:
        labels = obj["metadata"].setdefault("labels", {})
        labels.update({OWNER_LABEL: "installed-state", "operator.istio.io/component": component})
        for key in [k for k in labels if k.startswith(("helm.sh/", "app.kubernetes.io/managed-by"))]:
            del labels[key]
    return objs


def ingress_gateway(namespace: str = NAMESPACE) -> list[dict]:
    """The default profile's istio-ingressgateway (explicit proxy image, LoadBalancer)."""
    objs = charts.gateway("istio-ingressgateway", namespace, {})
    selector = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    for obj in objs:
        obj["metadata"]["labels"].update(selector)
    dep, svc = objs[1], objs[2]
    dep["spec"]["selector"]["matchLabels"] = selector
    dep["spec"]["template"]["metadata"]["labels"].update(selector)
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = f"{charts.HUB}/proxyv2:{charts.VERSION}"
    svc["spec"]["selector"] = selector
    svc["spec"]["ports"] = [{"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"},
                            {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                            {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]
    return objs


def _profile_objects(profile: str, values: dict) -> list[tuple[str, list[dict]]]:
    if profile == "empty":
        return []
    parts = [("Istio core installed \u26f5\ufe0f", _mark(charts.base("istio", NAMESPACE, values), "Base")),
             ("Istiod installed \U0001f9e0", _mark(charts.istiod("istiod", NAMESPACE, values), "Pilot"))]
    if profile in ("default", "demo"):
        parts.append(("Ingress gateways installed \U0001f6ec", _mark(ingress_gateway(), "IngressGateways")))
    return parts


def _confirm(question: str) -> bool:
    print(f"{question} (y/N) ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _deployments_ready(kube: Kube, objs: list[dict]) -> list[str]:
    waiting = []
    for obj in objs:
        if obj["kind"] != "Deployment":
            continue
        m = obj["metadata"]
        live = kube.get("Deployment", m["namespace"], m["name"]) or {}
        if int((live.get("status") or {}).get("readyReplicas") or 0) < (live.get("spec") or {}).get("replicas", 1):
            waiting.append(f"Deployment/{m['namespace']}/{m['name']}")
    return waiting


def _wait(kube: Kube, objs: list[dict], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        waiting = _deployments_ready(kube, objs)
        if not waiting or time.monotonic() >= deadline:
            return waiting
        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


def cmd_install(args: argparse.Namespace, kube: Kube) -> int:
    from tutorial.sandbox.simtools.helm import _duration, _parse_set

    values = _parse_set(args.set or [])
    helm_values = values.pop("values", None)  # `--set values.X=Y` sets the chart value X, as istioctl does
    if isinstance(helm_values, dict):
        values = {**helm_values, **values}
    profile = str(values.pop("profile", "default"))
    if profile not in PROFILES:
        raise IstioctlError(f'could not read profile "{profile}": profile does not exist')
    if not args.skip_confirmation and not _confirm(
            f'This will install the Istio {charts.VERSION} profile "{profile}" into the cluster. Proceed?'):
        print("Cancelled.")
        return 1
    print(SAIL)
    if kube.get("Namespace", None, NAMESPACE) is None:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    timeout = _duration(args.readiness_timeout)
    for label, objs in _profile_objects(profile, values):
        for obj in objs:
            kube.apply(obj)
        waiting = _wait(kube, objs, timeout)
        if waiting:
            component = label.split(" installed")[0]
            print(f"\u2718 {component} encountered an error: failed to wait for resource: resources not ready "
                  f"after {args.readiness_timeout}: context deadline exceeded\n  " + "\n  ".join(waiting))
            raise IstioctlError("failed to install manifests: errors occurred during operation")
        print(f"\u2714 {label}")
    print("\u2714 Installation complete")
    print("Made this installation the default for cluster-wide operations.")
    return 0


def _purge_targets() -> list[dict]:
    objs = [o for _, part in _profile_objects("default", {}) for o in part]
    return list(reversed(objs))


def cmd_uninstall(args: argparse.Namespace, kube: Kube) -> int:
    if not args.purge:
        raise IstioctlError("at least one of the --revision (or --set revision=<revision>), --filename or "
                            "--purge flags must be set")
    print("All Istio resources will be pruned from the cluster")
    if not args.skip_confirmation and not _confirm("Proceed?"):
        print("Cancelled.")
        return 1
    for obj in _purge_targets():
        m = obj["metadata"]
        if kube.delete(obj["kind"], m.get("namespace"), m["name"]):
            where = f"{m['namespace']}:" if m.get("namespace") else ":"
            print(f"  Removed {obj['kind']}:{where}{m['name']}.")
    print("\u2714 Uninstall complete")
    return 0


def cmd_version(args: argparse.Namespace, kube: Kube | None) -> int:
    if args.remote is False or kube is None:
        print(charts.VERSION if args.short else f"client version: {charts.VERSION}")
        return 0
    pods = [p for p in kube.list("Pod", NAMESPACE, "app=istiod")
            if (p.get("status") or {}).get("phase") == "Running"]
    if not pods:
        print(f'Istio is not present in the cluster: no running Istio pods in namespace "{NAMESPACE}"')
        print(f"client version: {charts.VERSION}")
        return 0
    proxies = [p for p in kube.list("Pod") if any("proxyv2" in c.get("image", "")
                                                  for c in (p.get("spec") or {}).get("containers") or [])]
    print(f"client version: {charts.VERSION}")
    print(f"control plane version: {charts.VERSION}")
    print(f"data plane version: {charts.VERSION} ({len(proxies)} proxies)" if proxies else "data plane version: none")
    return 0


def cmd_analyze(args: argparse.Namespace, kube: Kube) -> int:
    namespace = None if args.all_namespaces else (args.namespace or kube.namespace)
    scope = "all namespaces" if namespace is None else f"namespace: {namespace}"
    found = analyze.findings(kube, namespace)
    if not found:
        print(f"\u2714 No validation issues found when analyzing {scope}.")
        return 0
    for level, code, text in found:
        print(f"{level} [{code}] {text}")
    if any(level == "Error" for level, _, _ in found):
        print(f"Error: Analyzers found issues when analyzing {scope}.", file=sys.stderr)
        print("See https://istio.io/v1.27/docs/reference/config/analysis for more information about causes "
              "and resolutions.", file=sys.stderr)
        return 79
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: D401 - argparse hook
        raise IstioctlError(message.replace("unrecognized arguments:", "unknown flag:"))


COMMANDS = {"install", "uninstall", "version", "analyze"}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="istioctl")
    subs = parser.add_subparsers(dest="cmd", parser_class=_Parser)
    install = subs.add_parser("install")
    install.add_argument("--set", "-s", action="append")
    install.add_argument("-y", "--skip-confirmation", action="store_true")
    install.add_argument("--readiness-timeout", default="5m0s")
    uninstall = subs.add_parser("uninstall")
    uninstall.add_argument("--purge", action="store_true")
    uninstall.add_argument("-y", "--skip-confirmation", action="store_true")
    version = subs.add_parser("version")
    version.add_argument("--remote", type=lambda v: v.lower() != "false", default=True)
    version.add_argument("--short", action="store_true")
    an = subs.add_parser("analyze")
    an.add_argument("-A", "--all-namespaces", action="store_true")
    for sub in subs.choices.values():
        sub.add_argument("--kubeconfig", "-c")
        sub.add_argument("--context")
        sub.add_argument("-n", "--namespace", "-i", "--istioNamespace", dest="namespace")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "version" and args.remote is False:
        return cmd_version(args, None)
    kube = connect(args.kubeconfig, args.context)
    if args.cmd == "install":
        return cmd_install(args, kube)
    if args.cmd == "uninstall":
        return cmd_uninstall(args, kube)
    if args.cmd == "version":
        return cmd_version(args, kube)
    return cmd_analyze(args, kube)


def main(argv: list[str] | None = None) -> int:
    """Run one istioctl command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    print(BANNER, file=sys.stderr)
    first = next((a for a in argv if not a.startswith("-")), None)
    try:
        if first is None:
            raise IstioctlError("simulated istioctl: give a command (install, uninstall, version, analyze)")
        if first not in COMMANDS:
            raise IstioctlError(f'unknown command "{first}" for "istioctl"\nRun \'istioctl --help\' for usage.')
        return _dispatch(build_parser().parse_args(argv))
    except IstioctlError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except KubeError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
    return 1
