"""What is shown is what runs (issue 19): invisible characters made visible in every displayed
command, refused by lint; a lesson pack says so, lists its programs, and never runs an unconfirmed
check command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox_engine import require_kubectl
from tutorial.engine.runner import CommandSpec, RunTarget, display_command
from tutorial.engine.visible import join_argv

REPO = Path(__file__).resolve().parents[2]
HIDDEN = "pods'\r\x1b[2K$ kubectl get pods"


def test_display_makes_control_characters_visible_and_stays_copy_pasteable(tmp_path):
    argv = ["sh", "-c", f"touch {tmp_path}/x #{HIDDEN}"]
    shown = display_command(CommandSpec(argv=argv), RunTarget(), show_env=False)
    assert "\r" not in shown and "\x1b" not in shown and "\\r\\x1b[2K" in shown
    out = subprocess.run(["bash", "-c", f"printf '%s' {shown.split(' ', 2)[2]}"], capture_output=True,
                         check=True).stdout.decode()
    assert out == argv[2]  # bash reads the shown $'…' back into exactly the argument that runs
    assert join_argv(["a\u202eb", "c\u2028"]) == "$'a\\u202eb' $'c\\u2028'"
    stdin = display_command(CommandSpec(argv=["kubectl", "apply", "-f", "-"], stdin="a: 1\rb: 2\n"), RunTarget())
    assert "\r" not in stdin and "a: 1\\x0db: 2" in stdin


PACK = """format_version: 1
id: pack
title: A pack
order: 1
summary: Someone else's lesson.
steps:
  - id: one
    title: One
    text: Runs something.
    commands:
      - run: [kubectl, get, ns]
    checks:
      - kind: command_succeeds
        title: the marker is made
        run: [sh, -c, "touch {marker}"]
"""


def _pack(tmp_path: Path, run: str = "") -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    body = PACK.replace("{marker}", str(tmp_path / "marker"))
    if run:
        body = body.replace("run: [kubectl, get, ns]", run)
    (pack / "10-pack.yaml").write_text(body, encoding="utf-8")
    return pack


def _cli(tmp_path, *argv, stdin=subprocess.DEVNULL):
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "tutorial", "--sandbox", *argv], cwd=REPO, env=env,
                          stdin=stdin, capture_output=True, text=True, timeout=180)


def test_check_of_a_pack_never_runs_an_unconfirmed_command(tmp_path):
    require_kubectl()
    pack = _pack(tmp_path)
    proc = _cli(tmp_path, "check", "all", "--lessons", str(pack))
    out = proc.stdout + proc.stderr
    assert not (tmp_path / "marker").exists(), out
    assert "Not the bundled lessons" in out and "They run these programs: kubectl, sh" in out
    assert f"touch {tmp_path}/marker" in out and "not run" in out
    proc = _cli(tmp_path, "check", "all", "--lessons", str(pack), "--yes")
    assert (tmp_path / "marker").exists() and proc.returncode == 0, proc.stdout + proc.stderr


def test_run_of_a_pack_names_it_before_the_first_command_and_shows_the_check(tmp_path):
    require_kubectl()
    pack = _pack(tmp_path)
    proc = _cli(tmp_path, "run", "all", "--lessons", str(pack), "--yes")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert out.index("Not the bundled lessons") < out.index("$ kubectl")
    # a done step run again: with no terminal and no --yes, nothing (not even its check) runs
    (tmp_path / "marker").unlink()
    proc = _cli(tmp_path, "run", "all", "--lessons", str(pack))
    assert proc.returncode == 2 and not (tmp_path / "marker").exists(), proc.stdout + proc.stderr
    assert f"touch {tmp_path}/marker" in proc.stdout


def test_bundled_lessons_keep_their_read_only_checks(tmp_path):
    require_kubectl()
    proc = _cli(tmp_path, "check", "before-you-start")
    assert "Not the bundled lessons" not in proc.stdout + proc.stderr
    assert "not run" not in proc.stdout and proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("bad", ["pods\\r", "get\\e[2K", "a\\u202eb", "x\\u2028y"])
def test_lint_refuses_invisible_characters_in_a_command(tmp_path, bad):
    from tutorial.cli import main

    pack = _pack(tmp_path, run=f'run: [kubectl, get, "{bad}"]')
    proc = subprocess.run([sys.executable, "-m", "tutorial", "lint", str(pack)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    (line,) = [l for l in proc.stdout.splitlines() if "invisible" in l]
    assert line.startswith(f"{pack}/10-pack.yaml:11: steps[0].commands[0].run[2]:"), line
    assert "\u2028" not in proc.stdout and "\r" not in proc.stdout and "\x1b" not in proc.stdout
    assert main is not None


def test_lint_keeps_file_line_for_a_separator_in_a_key(tmp_path):
    pack = _pack(tmp_path)
    path = pack / "10-pack.yaml"
    path.write_text(path.read_text().replace("summary: Someone", "\"sum\\u2028mary\": x\nsummary: Someone"),
                    encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "tutorial", "lint", str(pack)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "\u2028" not in proc.stdout
    lines = proc.stdout.splitlines()[:-1]
    assert lines and all(l.startswith(f"{path}:") for l in lines), proc.stdout
    assert any(l.startswith(f"{path}:5:") and "\\u2028" in l for l in lines), proc.stdout
