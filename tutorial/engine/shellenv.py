"""The learner's own terminal: what a shell needs so every command the tutorial shows works there.

The tutorial shows commands as `kubectl … --context sandbox` (the context it uses). They work in
the learner's shell once KUBECONFIG names the file that holds that context and, on a simulated
cluster, the simulated helm and istioctl come first on PATH. `export_line` is that in one line
(what the TUI shows and copies), `env_file` keeps it in a file to `source`, and `subshell_argv`
starts a shell already set up, whose prompt says which cluster it talks to (like
`minikube docker-env` or `kind export kubeconfig`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Mapping

MARKER = "GATEWAY_TUTORIAL_CONTEXT"  # set in the subshell: the context it is set up for


def kubeconfig_path(target) -> str:
    """The kubeconfig file(s) kubectl must read to find the target's context."""
    return target.kubeconfig or os.path.join(os.path.expanduser("~"), ".kube", "config")


def extra_path(target, base: Mapping[str, str] | None = None) -> list[str]:
    """Directories to put first on PATH: simulated tools (sandbox), and gateway-tutorial itself
    when the learner's PATH does not find it (it runs from a virtual environment)."""
    env = os.environ if base is None else base
    dirs = [str(p) for p in target.extra_path] if target.sandbox else []
    if shutil.which("gateway-tutorial", path=env.get("PATH", "")) is None:
        dirs.append(str(tutorial_bin_dir()))
    return dirs


def changes(target, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables to set, with PATH's new directories only (the shell appends its own PATH)."""
    out = {"KUBECONFIG": kubeconfig_path(target)}
    dirs = extra_path(target, base)
    if dirs:
        out["PATH"] = os.pathsep.join(dirs)
    return out


def learner_env(target, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """base (default os.environ) with the changes applied: the environment of a learner's shell."""
    env = dict(os.environ if base is None else base)
    for name, value in changes(target, env).items():
        env[name] = f"{value}{os.pathsep}{env['PATH']}" if name == "PATH" and env.get("PATH") else value
    env[MARKER] = target.context
    return env


def export_line(target, base: Mapping[str, str] | None = None) -> str:
    """`export KUBECONFIG=… PATH=…:"$PATH"`, ready to paste into a POSIX shell."""
    parts = []
    for name, value in changes(target, base).items():
        parts.append(f'PATH={shlex.quote(value)}:"$PATH"' if name == "PATH" else f"{name}={shlex.quote(value)}")
    return "export " + " ".join(parts)


def label(target) -> str:
    """What the prompt says: SANDBOX on a simulated cluster, else the context's name."""
    return f"SANDBOX {target.context}" if target.sandbox else target.context


def env_file(target, base: Mapping[str, str] | None = None) -> Path:
    """Write the export line to `state_dir()/shell/CONTEXT.env` (to `source`); returns its path."""
    from tutorial.paths import state_dir

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", target.context) or "cluster"
    path = state_dir() / "shell" / f"{safe}.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (f"# gateway-tutorial: a shell for {target.label}\n"
            f"# source this file:  . {shlex.quote(str(path))}\n{export_line(target, base)}\n")
    _atomic_write(path, text, 0o600)
    return path


def subshell_argv(target, shell: str | None = None) -> list[str]:
    """The learner's shell ($SHELL, else /bin/sh) started interactive with a prompt naming the cluster.

    bash reads its usual ~/.bashrc first, then our prompt; other shells get PS1 from the
    environment (set by `subshell_env`), which most honour unless their own rc file replaces it.
    """
    shell = shell or os.environ.get("SHELL") or "/bin/sh"
    if os.path.basename(shell) == "bash":
        from tutorial.paths import state_dir

        rc = state_dir() / "shell" / "bashrc"
        rc.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(rc, "[ -f ~/.bashrc ] && . ~/.bashrc\n"
                      f'PS1="({_prompt_tag(target)}) ${{PS1:-\\$ }}"\n', 0o600)
        return [shell, "--rcfile", str(rc), "-i"]
    return [shell, "-i"]


def subshell_env(target, base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = learner_env(target, base)
    env["PS1"] = f"({_prompt_tag(target)}) {env.get('PS1', '$ ')}"
    return env


def _prompt_tag(target) -> str:
    return label(target).replace('"', "").replace("$", "").replace("`", "")


def tutorial_bin_dir(path: Path | None = None) -> Path:
    """A directory with a `gateway-tutorial` script running this installation (re-written if stale)."""
    if path is None:
        from tutorial.paths import state_dir

        path = state_dir() / "bin"
    root = Path(__file__).resolve().parents[2]  # the directory holding the `tutorial` package
    text = ("#!/bin/sh\n# gateway-tutorial from the installation that wrote this file (safe to delete).\n"
            f'PYTHONPATH="{root}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -m tutorial "$@"\n')
    script = path / "gateway-tutorial"
    if not script.is_file() or script.read_text(encoding="utf-8") != text:
        path.mkdir(parents=True, exist_ok=True)
        _atomic_write(script, text, 0o755)
    return path


def _atomic_write(path: Path, text: str, mode: int) -> None:
    tmp = path.parent / f".{path.name}.tmp{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(mode)
    os.replace(tmp, path)
