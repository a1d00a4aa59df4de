"""`gateway-tutorial sandbox serve|reset`: run simulated clusters, or empty the embedded one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutorial.exitcodes import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sandbox_command", metavar="ACTION")
    serve = sub.add_parser("serve", help="serve K simulated clusters until interrupted",
                           description="Serve K independent simulated clusters on loopback until Ctrl-C; "
                           "writes a kubeconfig with one context per cluster once all answer.")
    serve.add_argument("--port", type=int, default=None, metavar="N",
                       help="first API server port (consecutive for more clusters; default: any free)")
    serve.add_argument("--clusters", type=int, default=1, metavar="K", help="how many clusters (default 1)")
    serve.add_argument("--kubeconfig-out", type=Path, default=None, metavar="PATH",
                       help="where to write the kubeconfig (default: in the state directory)")
    serve.add_argument("--context-name", default="sandbox", metavar="PREFIX",
                       help="context names are PREFIX01, PREFIX02, ... (default: sandbox)")
    serve.add_argument("--fault", action="extend", nargs="+", default=[], metavar="NAME",
                       help="switch a fault on in every cluster: NAME, NAME=VALUE or NAME:KEY=VALUE,... "
                       "(image-pull, no-lb, istiod-unschedulable, slow-controllers, crashloop, "
                       "flaky-api, api-unreachable, api-latency=30ms); CONTEXT/NAME... for one cluster only; repeatable")
    serve.add_argument("--env-out", type=Path, default=None, metavar="PATH",
                       help="also write the shell lines (export KUBECONFIG=..., PATH=...) to PATH")
    serve.add_argument("--state-dir", type=Path, default=None, metavar="DIR",
                       help="keep each cluster's state in DIR/<context>.json across restarts")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help="connections each API server serves at once (default 64); more are answered "
                       "429 Too Many Requests with Retry-After, as a real API server's max-requests-inflight "
                       "does: to rehearse clients under overload")
    sub.add_parser("reset", help="empty the embedded sandbox (what --sandbox uses)",
                   description="Delete the embedded sandbox's stored cluster so it starts fresh.")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "sandbox_command", None)
    if action == "serve":
        return _serve(args)
    if action == "reset":
        return _reset()
    print("gateway-tutorial sandbox: choose an action: serve or reset "
          "(see `gateway-tutorial sandbox --help`).", file=sys.stderr)
    return EXIT_USAGE


def _serve(args: argparse.Namespace) -> int:
    from tutorial.sandbox.cluster import SandboxError
    from tutorial.sandbox.faults import FaultError
    from tutorial.sandbox.serve import ServeOptions, serve

    if args.workers is not None and args.workers < 1:
        print("gateway-tutorial sandbox serve: --workers must be at least 1.", file=sys.stderr)
        return EXIT_USAGE
    if args.clusters < 1:
        print("gateway-tutorial sandbox serve: --clusters must be at least 1.", file=sys.stderr)
        return EXIT_USAGE
    opts = ServeOptions(port=args.port, clusters=args.clusters, kubeconfig_out=args.kubeconfig_out,
                        context_name=args.context_name, faults=list(args.fault), env_out=args.env_out,
                        state_dir=args.state_dir, workers=args.workers)
    try:
        return serve(opts)
    except FaultError as exc:
        print(f"gateway-tutorial sandbox serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SandboxError as exc:
        print(f"gateway-tutorial sandbox serve: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED


def _reset() -> int:
    from tutorial.sandbox.cluster import SandboxError
    from tutorial.sandbox.embedded import reset

    try:
        print(reset())
    except SandboxError as exc:
        print(f"gateway-tutorial sandbox reset: {exc}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK
