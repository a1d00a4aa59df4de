"""Real kubectl 1.32 against a sandbox cluster: exec, attach, cp and port-forward say they are not simulated.

The sandbox runs no processes, so these streaming subresources answer at once with a clear
"not simulated by the sandbox" error (kubectl neither hangs nor panics); `kubectl run --rm -it`
falls back to logs, its shell exits as nobody can attach, and the pod is removed.
"""

from __future__ import annotations

from cluster_fixtures import sandbox  # noqa: F401 - the fixture

NOT_SIMULATED = "is not simulated by the sandbox"


def test_exec_attach_cp_and_port_forward_fail_clearly(sandbox, tmp_path):  # noqa: F811
    sandbox.kubectl("run", "p", "--image=nginx:1.27")
    sandbox.wait("--for=condition=Ready", "pod/p")
    for args, what in [(("exec", "p", "--", "env"), "pods/exec"),
                       (("exec", "-i", "p", "--", "sh"), "pods/exec"),
                       (("attach", "p"), "pods/attach"),
                       (("cp", "p:/etc/hosts", str(tmp_path / "hosts")), "pods/exec"),
                       (("port-forward", "pod/p", "0:80"), "pods/portforward")]:
        proc = sandbox.kubectl(*args, check=False)
        assert proc.returncode == 1, args
        assert f"{what} {NOT_SIMULATED}" in proc.stderr, proc.stderr
        assert "panic" not in proc.stderr
    sandbox.kubectl("expose", "pod", "p", "--port=80")
    proc = sandbox.kubectl("port-forward", "svc/p", "0:80", check=False)
    assert proc.returncode == 1 and "EXTERNAL-IP" in proc.stderr


def test_run_rm_it_falls_back_and_cleans_up(sandbox):  # noqa: F811
    proc = sandbox.kubectl("run", "tmp", "--rm", "-it", "--image=busybox:1.36", "--restart=Never", "--", "sh")
    assert f"pods/attach {NOT_SIMULATED}" in proc.stderr
    assert 'pod "tmp" deleted' in proc.stdout
