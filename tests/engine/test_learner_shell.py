"""The learner's own terminal: every command the tutorial shows works when pasted into a shell
set up with the export line the TUI shows (or into `gateway-tutorial shell`).

The learner typing is simulated by `sh -c SHOWN_LINE` with the exported environment and a PATH
that holds only the system's directories (so no virtual environment leaks in).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from sandbox_engine import require_kubectl
from tutorial.engine import shellenv
from tutorial.engine.progress import ProgressStore
from tutorial.engine.session import Engine
from tutorial.engine.target import sandbox_target
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir

# The blog's own command, shown for reference: it needs the cloned repository (its title says so).
REFERENCE_ONLY = {("emojivoto/deploy", "kubectl apply -k kustomize/ --context sandbox")}
SYSTEM_PATH = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if os.path.isdir(p))


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """The embedded sandbox as the TUI starts it, in a private state directory."""
    require_kubectl()
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    target = sandbox_target()
    yield target
    target.release()


def learner_shell_env(target, tmp_path) -> dict[str, str]:
    """What `eval "$(export line)"` gives a fresh login shell with only the system's PATH."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    base = {"PATH": SYSTEM_PATH, "HOME": str(home), "LANG": "C.UTF-8"}
    line = shellenv.export_line(target, base)
    out = subprocess.run(["sh", "-c", f"{line}\nenv"], env=base, capture_output=True, text=True, check=True)
    return dict(l.split("=", 1) for l in out.stdout.splitlines() if "=" in l)


def paste(line: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", line], env=env, capture_output=True, text=True, timeout=300)


def test_export_line_names_the_kubeconfig_with_the_shown_context(embedded, tmp_path):
    line = shellenv.export_line(embedded, {"PATH": SYSTEM_PATH})
    assert line.startswith("export KUBECONFIG=") and 'PATH=' in line and ':"$PATH"' in line
    env = learner_shell_env(embedded, tmp_path)
    shown = paste("kubectl get ns default --context sandbox -o name", env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "namespace/default"


@pytest.mark.parametrize("variant", ["helm", "istioctl"])
def test_every_shown_command_works_pasted_into_the_learners_shell(embedded, tmp_path, variant):
    env = learner_shell_env(embedded, tmp_path)
    progress = ProgressStore.for_cluster(*embedded.identity)
    engine = Engine(load_lessons(lessons_dir(), assets_dir()), embedded, progress)
    engine.progress.set_variant("istio", variant)
    try:
        for _, step in engine.steps("all"):
            for prepared in engine.prepare(step):
                if (step.target, prepared.display) in REFERENCE_ONLY:
                    continue
                done = paste(prepared.display, env)
                assert done.returncode in prepared.spec.ok_exit_codes, (
                    f"{step.target}: `{prepared.display}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
            bad = [f"{r.title}: {r.observed}" for r in engine.check_step(step) if not r.passed]
            assert not bad, f"{step.target} after the learner ran its commands: {bad}"
    finally:
        engine.close()


def test_lesson_zero_doctor_line_exits_zero_in_the_shell(embedded, tmp_path):
    env = learner_shell_env(embedded, tmp_path)
    engine = Engine(load_lessons(lessons_dir(), assets_dir()), embedded,
                    ProgressStore.for_cluster(*embedded.identity))
    doctor = next(p for p in engine.prepare(engine.lessons.step("before-you-start/tools"))
                  if p.spec.argv[0] == "gateway-tutorial")
    engine.close()
    assert doctor.display == "gateway-tutorial doctor --context sandbox"
    done = paste(doctor.display, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sandbox (simulated)" in done.stdout


def test_shell_command_opens_a_subshell_whose_prompt_says_sandbox(tmp_path):
    require_kubectl()
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": SYSTEM_PATH, "HOME": str(home), "SHELL": shutil.which("bash"), "LANG": "C.UTF-8",
           "GATEWAY_TUTORIAL_STATE_DIR": str(tmp_path / "state"),
           "PYTHONPATH": os.pathsep.join(sys.path)}
    typed = ('echo "prompt=$PS1"\nkubectl get ns kube-system --context sandbox -o name\n'
             "helm version --short\nexit 7\n")
    done = subprocess.run([sys.executable, "-m", "tutorial", "shell", "--sandbox"], input=typed, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 7, done.stderr  # the shell's own exit status comes back
    assert "prompt=(SANDBOX sandbox)" in done.stdout
    assert "namespace/kube-system" in done.stdout
    assert "simulated" in done.stdout + done.stderr
    assert "Every command the tutorial shows works here" in done.stderr


def test_shell_print_gives_an_export_line_and_a_file_to_source(embedded, tmp_path, capsys):
    from tutorial.cli import main

    assert main(["shell", "--print", "--sandbox"]) == 0
    out = capsys.readouterr().out
    export = [l for l in out.splitlines() if l.startswith("export ")]
    assert export and "KUBECONFIG=" in export[0]
    env_file = tmp_path / "state" / "shell" / "sandbox.env"
    assert export[0] in env_file.read_text(encoding="utf-8")
