"""`gateway-tutorial shell`: a subshell set up for the tutorial's cluster, so shown commands paste and run.

Like `minikube docker-env` or `kind export kubeconfig`: KUBECONFIG names the file with the context
every shown command uses, the simulated helm and istioctl come first on PATH on the sandbox, and
the prompt says which cluster (SANDBOX on a simulated one). `--print` prints the export line
instead, for `eval "$(gateway-tutorial shell --print)"`.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys

from tutorial.exitcodes import EXIT_OK, EXIT_UNREACHABLE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print", action="store_true", dest="print_only",
                        help="print the export line instead of starting a shell")


def run(args: argparse.Namespace) -> int:
    from tutorial.engine.target import TargetError

    try:
        target, notice = _choose(args)
    except TargetError as exc:
        print(f"gateway-tutorial shell: {exc}\nAdd --sandbox to use the simulated sandbox cluster.",
              file=sys.stderr)
        return EXIT_UNREACHABLE
    try:
        if notice:
            print(notice, file=sys.stderr)
        return _print(target) if args.print_only else _subshell(target)
    finally:
        target.release()


def _choose(args):
    """(target, notice): --sandbox, --context/--kubeconfig, else the current context when it answers
    and the sandbox when it does not (as the TUI chooses)."""
    from tutorial.engine.target import TargetError, choose_target, probe, sandbox_target

    named = getattr(args, "context", None) or getattr(args, "kubeconfig", None)
    try:
        target = choose_target(args)
    except TargetError as exc:
        if named:
            raise
        return sandbox_target(), f"No cluster to use ({str(exc).splitlines()[0]}); this shell uses the sandbox."
    problem = probe(target, timeout=3.0)
    if not problem:
        return target, None
    target.release()
    if named:
        raise TargetError(problem, unreachable=True)
    return sandbox_target(), f"{problem}; this shell uses the sandbox."


def _print(target) -> int:
    from tutorial.engine import shellenv

    path = shellenv.env_file(target)
    if target.embedded and target.handle is not None and getattr(target.handle, "owned", False):
        print("# the sandbox answers only while `gateway-tutorial` (or `gateway-tutorial shell`) runs")
    print(f"# {target.label}; also in {path}")
    print(shellenv.export_line(target))
    return EXIT_OK


def _subshell(target) -> int:
    """Run the learner's shell until they exit it; the sandbox this process serves lives as long."""
    from tutorial.engine import shellenv

    argv = shellenv.subshell_argv(target)
    print(f"A shell for {target.label}: KUBECONFIG={shellenv.kubeconfig_path(target)}"
          + ("; simulated helm and istioctl come first on PATH" if target.sandbox else "")
          + f".\nEvery command the tutorial shows works here (context {target.context}). "
          "Type `exit` to leave.", file=sys.stderr)
    # Ctrl-C belongs to the shell and its commands; a handler (not SIG_IGN) is reset by exec,
    # so the shell's children still stop on Ctrl-C.
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        code = subprocess.call(argv, env=shellenv.subshell_env(target))
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"Left the shell for {target.label}.", file=sys.stderr)
    return code if code >= 0 else 128 - code
