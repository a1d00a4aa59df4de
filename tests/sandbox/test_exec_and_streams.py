"""Real kubectl 1.32 against a sandbox cluster: exec over WebSockets runs a small honest set of commands;
attach, cp and port-forward say they are not simulated.

exec answers env, cat of the kubelet's files, echo, exit codes and stdin (`cat`); any other command
fails with exit code 127 and "not simulated by the sandbox". The streaming subresources the sandbox
cannot serve answer at once with a clear error (kubectl neither hangs nor panics); `kubectl run
--rm -it` falls back to logs, its shell exits as nobody can attach, and the pod is removed.
"""

from __future__ import annotations

from cluster_fixtures import sandbox  # noqa: F401 - the fixture

NOT_SIMULATED = "not simulated by the sandbox"


def _running(sb) -> None:
    sb.kubectl("run", "p", "--image=busybox:1.36", "--env=GREETING=hello", "--", "sleep", "infinity")
    sb.wait("--for=condition=Ready", "pod/p")


def test_exec_runs_the_commands_it_can_answer_honestly(sandbox):  # noqa: F811
    _running(sandbox)
    env = sandbox.kubectl("exec", "p", "--", "env").stdout.splitlines()
    assert "HOSTNAME=p" in env and "GREETING=hello" in env and "KUBERNETES_SERVICE_HOST=10.96.0.1" in env
    resolv = sandbox.kubectl("exec", "p", "--", "cat", "/etc/resolv.conf").stdout
    assert resolv.startswith("search default.svc.cluster.local svc.cluster.local cluster.local\n")
    proc = sandbox.kubectl("exec", "p", "--", "sh", "-c", "echo hi; exit 3", check=False)
    assert (proc.returncode, proc.stdout) == (3, "hi\n") and "command terminated with exit code 3" in proc.stderr
    assert sandbox.kubectl("exec", "-i", "p", "--", "cat", input="from stdin\n").stdout == "from stdin\n"
    proc = sandbox.kubectl("exec", "p", "--", "wget", "-qO-", "http://web", check=False)
    assert proc.returncode == 127 and f"wget -qO- http://web: {NOT_SIMULATED}" in proc.stderr
    proc = sandbox.kubectl("exec", "-i", "p", "--", "sh", check=False)
    assert proc.returncode == 127 and f"an interactive shell is {NOT_SIMULATED}" in proc.stderr


def test_attach_cp_and_port_forward_fail_clearly(sandbox, tmp_path):  # noqa: F811
    _running(sandbox)
    for args, expected in [(("attach", "p"), f"pods/attach is {NOT_SIMULATED}"),
                           (("cp", "p:/etc/hosts", str(tmp_path / "hosts")), NOT_SIMULATED),
                           (("port-forward", "pod/p", "0:80"), f"pods/portforward is {NOT_SIMULATED}")]:
        proc = sandbox.kubectl(*args, check=False)
        assert proc.returncode != 0, args
        assert expected in proc.stdout + proc.stderr, proc  # cp shows the remote tar's stderr on stdout
        assert "panic" not in proc.stderr
    sandbox.kubectl("expose", "pod", "p", "--port=80")
    proc = sandbox.kubectl("port-forward", "svc/p", "0:80", check=False)
    assert proc.returncode == 1 and "EXTERNAL-IP" in proc.stderr


def test_run_rm_it_falls_back_and_cleans_up(sandbox):  # noqa: F811
    proc = sandbox.kubectl("run", "tmp", "--rm", "-it", "--image=busybox:1.36", "--restart=Never", "--", "sh")
    assert f"pods/attach is {NOT_SIMULATED}" in proc.stderr
    assert 'pod "tmp" deleted' in proc.stdout
