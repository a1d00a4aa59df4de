"""The runner against real processes: output, stdin, env, context flags, timeout, cancel."""

from __future__ import annotations

import os
import shlex
import stat
import sys
import threading

import pytest

from tutorial.engine.runner import (
    CommandRun,
    CommandSpec,
    RunTarget,
    display_command,
    run_command,
    with_context,
)

PY = sys.executable


def _gone(pid: int, within: float = 10.0) -> bool:
    """True once pid has ended: SIGKILL is delivered at once but the exit itself can lag on
    a busy machine, so wait for the kernel's exit notification (pidfd), bounded."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], within)[0])  # readable = exited (or zombie)
    finally:
        os.close(fd)


def _spawner_spec(timeout: float | None = 30.0) -> CommandSpec:
    """A shell program under test that prints its pid and a background child's pid, then waits."""
    return CommandSpec(["sh", "-c", "sleep 30 & echo $$ $!; sleep 30"], timeout=timeout)


def _pids(lines: list[tuple[str, str]]) -> list[int]:
    return [int(p) for p in lines[0][1].split()]


def test_streams_lines_records_output_and_feeds_stdin():
    code = "import sys; print('one'); print('err', file=sys.stderr); print(sys.stdin.read().upper())"
    seen: list[tuple[str, str]] = []
    spec = CommandSpec([PY, "-c", code], stdin="kind: Namespace\n")
    result = run_command(spec, RunTarget(), on_output=lambda s, line: seen.append((s, line)))
    assert result.ok and result.exit_code == 0
    assert result.stdout == "one\nKIND: NAMESPACE\n\n"
    assert result.stderr == "err\n"
    assert ("stdout", "one") in seen and ("stderr", "err") in seen
    assert ("stdout", "KIND: NAMESPACE") in seen


def test_failing_exit_code_is_recorded_and_ok_codes_respected():
    spec = CommandSpec([PY, "-c", "raise SystemExit(3)"])
    result = run_command(spec, RunTarget())
    assert result.exit_code == 3 and not result.ok
    assert "code 3" in result.explanation
    allowed = CommandSpec([PY, "-c", "raise SystemExit(3)"], ok_exit_codes=(0, 3))
    assert run_command(allowed, RunTarget()).ok


def test_argv_elements_are_never_reparsed_by_a_shell(tmp_path):
    tricky = f"x; touch {tmp_path}/pwned $(id) 'q'"
    result = run_command(CommandSpec([PY, "-c", "import sys; print(sys.argv[1])", tricky]), RunTarget())
    assert result.stdout == tricky + "\n"
    assert not (tmp_path / "pwned").exists()


def test_env_carries_kubeconfig_and_sandbox_path(tmp_path):
    code = "import os; print(os.environ['KUBECONFIG']); print(os.environ['PATH'])"
    target = RunTarget(kubeconfig="/k/one:/k/two", sandbox=True, extra_path=[str(tmp_path)],
                       env={"EXTRA": "1"})
    result = run_command(CommandSpec([PY, "-c", code]), target)
    kubeconfig, path = result.stdout.splitlines()
    assert kubeconfig == "/k/one:/k/two"
    assert path.split(os.pathsep)[0] == str(tmp_path)


def _fake_tool(directory, name: str) -> None:
    """An executable on the sandbox bin dir that echoes its argv."""
    script = directory / name
    script.write_text(f"#!{PY}\nimport sys\nprint(' '.join(sys.argv[1:]))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_sandbox_tools_found_only_on_sandbox_target(tmp_path):
    _fake_tool(tmp_path, "istioctl")
    spec = CommandSpec(["istioctl", "install", "-y"])
    sandbox = RunTarget(context="sb", sandbox=True, extra_path=[str(tmp_path)])
    result = run_command(spec, sandbox)
    assert result.ok and result.stdout == "install -y --context sb\n"
    real = RunTarget(context="sb", sandbox=False, extra_path=[str(tmp_path)],
                     env={"PATH": "/nonexistent"})
    assert run_command(spec, real).missing_executable == "istioctl"


def test_missing_executable_is_a_result_with_install_hint():
    result = run_command(CommandSpec(["helm", "version"]), RunTarget(env={"PATH": "/nonexistent"}))
    assert result.missing_executable == "helm" and not result.ok
    assert result.exit_code is None
    assert "https://helm.sh/docs/intro/install/" in result.explanation


def test_real_kubectl_gets_the_context_flag(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                          "    server: http://127.0.0.1:9\nusers:\n- name: u\n  user: {}\n"
                          "contexts:\n- name: demo\n  context:\n"
                          "    cluster: c\n    user: u\n    namespace: from-demo\n")
    spec = CommandSpec(["kubectl", "config", "view", "--minify", "-o",
                        "jsonpath={.contexts[0].context.namespace}"])
    target = RunTarget(kubeconfig=str(kubeconfig), context="demo")
    # `config` is local, so no flag is added; pass it ourselves to prove the chosen file is read
    result = run_command(CommandSpec([*spec.argv, "--context", "demo"]), target)
    assert result.ok, result.stderr
    assert result.stdout == "from-demo"
    version = run_command(CommandSpec(["kubectl", "version", "--client"]), target)
    assert version.argv == ["kubectl", "version", "--client"] and version.ok
    assert "Client Version" in version.stdout


def test_cluster_commands_carry_the_context_to_real_kubectl(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    spec = CommandSpec(["kubectl", "get", "ns"], timeout=30)
    result = run_command(spec, RunTarget(kubeconfig=str(kubeconfig), context="demo"))
    assert result.argv == ["kubectl", "get", "ns", "--context", "demo"]
    assert not result.ok
    assert 'context was not found for specified context: demo' in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["kubectl", "get", "ns"], ["kubectl", "get", "ns", "--context", "c"]),
        (["/usr/bin/kubectl", "get"], ["/usr/bin/kubectl", "get", "--context", "c"]),
        (["helm", "list"], ["helm", "list", "--kube-context", "c"]),
        (["istioctl", "x"], ["istioctl", "x", "--context", "c"]),
        (["kubectl", "--context", "o", "get"], ["kubectl", "--context", "o", "get"]),
        (["kubectl", "get", "--context=o"], ["kubectl", "get", "--context=o"]),
        (["helm", "--kube-context=o", "ls"], ["helm", "--kube-context=o", "ls"]),
        (["kubectl", "exec", "p", "--", "x", "--context"],
         ["kubectl", "exec", "p", "--context", "c", "--", "x", "--context"]),
        (["curl", "http://x"], ["curl", "http://x"]),
        (["helm", "repo", "add", "istio", "u"], ["helm", "repo", "add", "istio", "u"]),
        (["helm", "version"], ["helm", "version"]),
        (["kubectl", "version", "--client"], ["kubectl", "version", "--client"]),
        (["kubectl", "version"], ["kubectl", "version", "--context", "c"]),
        (["kubectl", "config", "view"], ["kubectl", "config", "view"]),
    ],
)
def test_with_context_knows_each_tools_flag(argv, expected):
    assert with_context(argv, "c") == expected


def test_with_context_without_context_is_unchanged():
    assert with_context(["kubectl", "get"], None) == ["kubectl", "get"]


def test_display_command_is_copy_pasteable():
    spec = CommandSpec(["kubectl", "apply", "-f", "-"], stdin="a: 'b c'\nEOF\n")
    target = RunTarget(kubeconfig="/tmp/my kube", context="lab 1")
    shown = display_command(spec, target, base_env={"HOME": "/home/learner"})
    first, *body = shown.splitlines()
    words = shlex.split(first.split(" <<", 1)[0])
    assert words == ["KUBECONFIG=/tmp/my kube", "kubectl", "apply", "-f", "-", "--context", "lab 1"]
    assert first.endswith("<<'EOF_1'")
    assert body == ["a: 'b c'", "EOF", "EOF_1"]
    plain = display_command(CommandSpec(["kubectl", "get", "ns"]), RunTarget(), show_env=False)
    assert plain == "kubectl get ns"


def test_timeout_ends_the_whole_process_group():
    seen: list[tuple[str, str]] = []
    result = run_command(_spawner_spec(timeout=1.0), RunTarget(),
                         on_output=lambda s, line: seen.append((s, line)))
    assert result.timed_out and not result.ok and not result.cancelled
    assert result.exit_code is not None and result.exit_code < 0
    assert all(_gone(pid) for pid in _pids(seen))


def test_cancel_event_from_another_thread_ends_the_group():
    cancel = threading.Event()
    seen: list[tuple[str, str]] = []

    def on_output(stream: str, line: str) -> None:
        seen.append((stream, line))
        threading.Thread(target=cancel.set).start()  # cancel from elsewhere once it runs

    result = run_command(_spawner_spec(), RunTarget(), on_output=on_output, cancel=cancel)
    assert result.cancelled and not result.timed_out and not result.ok
    assert all(_gone(pid) for pid in _pids(seen))


def test_cancel_method_ends_the_group():
    started = threading.Event()
    run = CommandRun(_spawner_spec(), RunTarget(), on_output=lambda s, line: started.set())
    run.start()
    waiter = threading.Thread(target=lambda: (started.wait(10), run.cancel()))
    waiter.start()
    result = run.wait()
    waiter.join()
    assert result.cancelled
    assert _gone(run.pid)


def test_normal_exit_leaves_no_background_children():
    spec = CommandSpec(["sh", "-c", "sleep 30 & echo $!"])
    result = run_command(spec, RunTarget())
    assert result.ok
    assert _gone(int(result.stdout.strip()))


def test_broken_output_callback_does_not_break_the_run():
    def boom(stream: str, line: str) -> None:
        raise RuntimeError("display broke")

    result = run_command(CommandSpec([PY, "-c", "print('x')"]), RunTarget(), on_output=boom)
    assert result.ok and result.stdout == "x\n"


def test_group_that_ignores_sigterm_is_killed():
    cancel = threading.Event()
    seen: list[tuple[str, str]] = []

    def on_output(stream: str, line: str) -> None:
        seen.append((stream, line))
        cancel.set()

    spec = CommandSpec(["sh", "-c", "trap '' TERM; sleep 30 & echo $$ $!; sleep 30"])
    result = run_command(spec, RunTarget(), on_output=on_output, cancel=cancel)
    assert result.cancelled and result.exit_code == -9
    assert all(_gone(pid) for pid in _pids(seen))


def test_large_manifest_on_stdin_is_fed_completely():
    manifest = "".join(f"line-{i:06d}: {'x' * 90}\n" for i in range(3000))  # ~300 KB
    code = "import sys, hashlib; print(hashlib.sha256(sys.stdin.read().encode()).hexdigest())"
    result = run_command(CommandSpec([PY, "-c", code], stdin=manifest), RunTarget())
    import hashlib

    assert result.stdout.strip() == hashlib.sha256(manifest.encode()).hexdigest()


def test_unstartable_executable_is_a_result(tmp_path):
    bad = tmp_path / "kubectl"
    bad.write_text("#!/nonexistent/interpreter\n")
    bad.chmod(0o755)
    result = run_command(CommandSpec([str(bad), "version"]), RunTarget())
    assert not result.ok and result.exit_code is None and result.missing_executable is None
    assert "could not be started" in result.explanation


def test_display_omits_env_the_shell_already_has():
    spec = CommandSpec(["kubectl", "get", "ns"])
    home = {"HOME": "/home/l"}
    assert display_command(spec, RunTarget(kubeconfig="/home/l/.kube/config"), base_env=home) \
        == "kubectl get ns"
    same = {"KUBECONFIG": "/a:/b"}
    assert display_command(spec, RunTarget(kubeconfig="/a:/b"), base_env=same) == "kubectl get ns"
    other = display_command(spec, RunTarget(kubeconfig="/a"), base_env=same)
    assert other == "KUBECONFIG=/a kubectl get ns"
    sandbox = RunTarget(kubeconfig="/a", sandbox=True, extra_path=["/sb/bin"])
    assert display_command(spec, sandbox, base_env={"KUBECONFIG": "/a"}) == \
        'PATH=/sb/bin:"$PATH" kubectl get ns'


@pytest.mark.parametrize("argv", [[], "kubectl get ns", ["kubectl", 3]])
def test_command_spec_requires_an_argv_list(argv):
    with pytest.raises(ValueError, match="argv"):
        CommandSpec(argv)
