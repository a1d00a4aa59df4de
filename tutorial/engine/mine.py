"""Write it yourself: the learner's own version of a step's YAML, kept per cluster, and what it changes.

A learner's file lives in `state_dir()/yours/<cluster key>/<lesson>--<step>--<manifest>.yaml`, so
a reset of the step (which undoes the cluster) and a restart both keep it. When it exists, the step
applies it instead of the blog's manifest (`text_for`). `differences` says, before applying, what
the API server would refuse (a server-side dry run: schema and the CRD's rules) and then what each
change from the blog's manifest means, looked up in the cluster where that matters.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def path_for(engine, step, manifest_id: str) -> Path:
    from tutorial.engine.progress import cluster_key
    from tutorial.paths import state_dir

    key = cluster_key(*engine.target.identity)
    return state_dir() / "yours" / key / f"{step.target.replace('/', '--')}--{manifest_id}.yaml"


def load(engine, step, manifest_id: str) -> str | None:
    try:
        return path_for(engine, step, manifest_id).read_text(encoding="utf-8")
    except OSError:
        return None


def save(engine, step, manifest_id: str, text: str) -> Path:
    path = path_for(engine, step, manifest_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def forget(engine, step, manifest_id: str) -> None:
    path_for(engine, step, manifest_id).unlink(missing_ok=True)


def text_for(engine, step, manifest_id: str) -> str:
    """What the step applies: the learner's version when there is one, else the blog's."""
    mine = load(engine, step, manifest_id)
    return mine if mine is not None else step.manifest(manifest_id).text


def differences(engine, step, manifest_id: str, text: str) -> list[str]:
    """Refusals first (YAML, then the API server's dry run), then each change and what it does."""
    try:
        yours = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        return [f"✘ This is not valid YAML: {' '.join(str(exc).split())}"]
    lines = [f"✘ The API server would refuse it: {p}" for p in dry_run(engine, text)]
    blog = [d for d in yaml.safe_load_all(step.manifest(manifest_id).text) if d is not None]
    from tutorial.engine.mine_meaning import meaning

    for path, old, new in leaf_changes(blog[0] if blog else {}, yours[0] if yours else {}):
        lines.append(f"{_what(path, old, new)} {meaning(engine, yours[0] if yours else {}, path, new)}".strip())
    return lines or ["Your version is the same as the blog's manifest."]


def dry_run(engine, text: str) -> list[str]:
    """The API server's refusals of `kubectl apply --dry-run=server` (schema, CEL rules), if any."""
    from tutorial.engine.runner import CommandSpec, run_command

    spec = CommandSpec(argv=["kubectl", "apply", "--dry-run=server", "-f", "-"], stdin=text, timeout=30)
    result = run_command(spec, engine.target.run_target())
    if result.ok:
        return []
    return [l.strip() for l in (result.stderr or result.explanation).splitlines() if l.strip()] or \
        [f"kubectl exited with code {result.exit_code}"]


def leaf_changes(old, new, path: str = "") -> list[tuple[str, object, object]]:
    """(path, blog value, your value) for each changed, added (blog None) or removed (yours None) leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            out += leaf_changes(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            out += leaf_changes(old[i] if i < len(old) else None, new[i] if i < len(new) else None, f"{path}[{i}]")
        return out
    return [] if old == new else [(path, old, new)]


def _what(path: str, old, new) -> str:
    if old is None:
        return f"• You add {path}: {_show(new)}."
    if new is None:
        return f"• You remove {path} (the blog has {_show(old)})."
    return f"• {path}: the blog has {_show(old)}, yours {_show(new)}."


def _show(value) -> str:
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return repr(value) if isinstance(value, str) else str(value)
