"""`gateway-tutorial doctor`: tools, cluster, load balancer, Istio, CRDs and rights, before you start.

Exit 0 when nothing blocks the lessons, 1 when something does, 3 when the cluster does not answer.
"""

from __future__ import annotations

import argparse
import json

SYMBOLS = {"ok": ("✔", "ok", "green"), "info": ("i", "info", "cyan"), "warn": ("!", "warn", "yellow"),
           "block": ("✘", "BLOCK", "red")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--quiet", action="store_true",
                        help="print only warnings and blocking findings (for scripts and lesson checks)")
    parser.add_argument("--no-tools", action="store_true", help="skip asking kubectl/helm/istioctl for versions")


def run(args: argparse.Namespace) -> int:
    from tutorial.engine.preflight import Finding, Preflight, run_preflight
    from tutorial.engine.target import TargetError, choose_target
    from tutorial.exitcodes import EXIT_UNREACHABLE

    try:
        target = choose_target(args)
    except TargetError as exc:
        report = Preflight(facts={"reachable": False})
        report.add(Finding("cluster.reachable", "block", "cluster", str(exc), "No lesson can run.",
                           "Fix the kubeconfig or context, or add --sandbox."))
        _print(report, args)
        return EXIT_UNREACHABLE
    try:
        report = run_preflight(target, tools=not args.no_tools)
        _safety(report, target)
    finally:
        target.release()
    _print(report, args)
    return report.exit_code()


def _safety(report, target) -> None:
    from tutorial.engine.preflight import Finding
    from tutorial.engine.safety import assess, load_settings, settings_path

    warning = assess(target)
    report.facts["production_looking"] = warning is not None
    if warning is not None:
        report.add(Finding("safety.production", "warn", "production?", warning.message,
                           "run and the TUI ask you to confirm before any command runs here.",
                           f"Use a lab cluster, or list the context under trusted_contexts in {settings_path()}."))
    problem = load_settings()[2]
    if problem:
        report.add(Finding("safety.settings", "warn", "settings", problem))


def _print(report, args) -> None:
    from rich.markup import escape

    from tutorial.commands._render import console
    from tutorial.engine.preflight import summary_line

    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return
    out = console()
    for finding in report.findings:
        if args.quiet and finding.severity in ("ok", "info"):
            continue
        symbol, word, colour = SYMBOLS[finding.severity]
        out.print(f"[{colour}]{symbol} {word:5}[/] [bold]{escape(finding.title)}[/]: {escape(finding.found)}")
        if finding.consequence:
            out.print(f"         [dim]means:[/] {escape(finding.consequence)}")
        if finding.fix:
            out.print(f"         [dim]fix:[/]   {escape(finding.fix)}")
    out.print(escape(summary_line(report)))
