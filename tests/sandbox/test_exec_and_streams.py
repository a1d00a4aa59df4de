"""Real kubectl 1.32 (and the kubernetes python client) against a sandbox cluster: exec, attach and cp.

exec runs a small honest set of commands through a tiny sh (for loops, pipes, redirections, a shell
fed on stdin); anything else fails with "not simulated by the sandbox". attach streams what the
container writes from then on; attaching stdin is refused at once, so `kubectl run --rm -it` falls
back to logs and cleans up. cp works through `tar cf -` / `tar xf -` on the container's files.
Port-forward has its own file, test_port_forward.py.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import select
import subprocess

import pytest
from cluster_fixtures import http_get, kubectl_env, port_forward, require_kubectl, sandbox  # noqa: F401 - the fixture

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
    proc = sandbox.kubectl("exec", "p", "--", "nslookup", "web", check=False)
    assert proc.returncode == 127 and f"nslookup web: {NOT_SIMULATED}" in proc.stderr


def test_exec_sh_runs_loops_pipes_and_redirections(sandbox):  # noqa: F811
    _running(sandbox)
    script = 'for i in $(seq 1 3); do echo "n=$i"; done; echo -n abc | gzip | wc -c; echo err >&2; echo $GREETING'
    proc = sandbox.kubectl("exec", "p", "--", "sh", "-c", script)
    assert proc.stdout == "n=1\nn=2\nn=3\n23\nhello\n" and proc.stderr == "err\n"
    proc = sandbox.kubectl("exec", "p", "--", "sh", "-c", "echo kept > /tmp/a && cat /tmp/a && false || echo or")
    assert proc.stdout == "kept\nor\n"
    proc = sandbox.kubectl("exec", "p", "--", "sh", "-c", "if true; then echo x; fi", check=False)
    assert proc.returncode == 2 and f"'if' is {NOT_SIMULATED}" in proc.stderr
    proc = sandbox.kubectl("exec", "-i", "p", "--", "sh", input="echo one\necho two >&2\nexit 4\necho never\n",
                           check=False)
    assert (proc.returncode, proc.stdout) == (4, "one\n") and proc.stderr.startswith("two\n")


def test_exec_it_gives_a_terminal_with_a_prompt_and_echo(sandbox):  # noqa: F811
    _running(sandbox)
    master, slave = pty.openpty()
    proc = subprocess.Popen([require_kubectl(), "exec", "-it", "p", "--", "sh"], stdin=slave, stdout=slave,
                            stderr=slave, env=kubectl_env(sandbox.home, sandbox.kubeconfig), close_fds=True)
    os.close(slave)
    try:
        assert _read_until(master, b"/ # ").endswith(b"/ # ")
        os.write(master, b"echo $GREETING\r")
        assert _read_until(master, b"/ # ") == b"echo $GREETING\r\nhello\r\n/ # "  # echoed, run, prompt again
        os.write(master, b"exit 3\r")
        assert proc.wait(timeout=30) == 3
    finally:
        proc.kill() if proc.poll() is None else None
        os.close(master)


def _read_until(fd: int, end: bytes) -> bytes:
    data = b""
    while not data.endswith(end) and select.select([fd], [], [], 30)[0]:
        data += os.read(fd, 1024)
    return data


def test_python_client_exec_as_the_e2e_suite_does(sandbox):  # noqa: F811
    """kubernetes-client/python's e2e test_pod_apis: a for loop, a pipe into gzip (binary), a shell on stdin."""
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import stream
    from kubernetes.stream.ws_client import ERROR_CHANNEL

    _running(sandbox)
    with kubernetes.config.new_client_from_config(config_file=str(sandbox.kubeconfig)) as api_client:
        api = kubernetes.client.CoreV1Api(api_client)
        out = stream(api.connect_get_namespaced_pod_exec, "p", "default", command=[
            "/bin/sh", "-c", "for i in $(seq 1 3); do date; done"], stderr=False, stdin=False, stdout=True, tty=False)
        assert len(out.splitlines()) == 3
        out = stream(api.connect_get_namespaced_pod_exec, "p", "default", command=[
            "/bin/sh", "-c", 'echo -n "This is a test string" | gzip'], stderr=False, stdin=False, stdout=True,
            tty=False, binary=True)
        assert gzip.decompress(out) == b"This is a test string"
        resp = stream(api.connect_post_namespaced_pod_exec, "p", "default", command=["/bin/sh"], stderr=True,
                      stdin=True, stdout=True, tty=False, _preload_content=False)
        resp.write_stdin("echo test string 1\n")
        assert resp.readline_stdout(timeout=5) == "test string 1"
        resp.write_stdin("echo test string 2 >&2\n")
        assert resp.readline_stderr(timeout=5) == "test string 2" and not resp.peek_stdout()
        resp.write_stdin("exit\n")
        resp.update(timeout=5)
        status = resp.read_channel(ERROR_CHANNEL)
        while not status and resp.is_open():
            resp.update(timeout=1)
            status = resp.read_channel(ERROR_CHANNEL)
        assert json.loads(status)["status"] == "Success"




def test_attach_streams_what_the_container_writes_from_then_on(sandbox):  # noqa: F811
    sandbox.kubectl("run", "web", "--image=nginx:1.27")
    sandbox.wait("--for=condition=Ready", "pod/web")
    attach = subprocess.Popen([require_kubectl(), "attach", "web"], env=kubectl_env(sandbox.home, sandbox.kubeconfig),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = ""
    try:
        with port_forward(sandbox, "pod/web", 80) as (port, _, _):
            for _ in range(40):  # attach shows only what is written once it is connected: ask until it shows
                assert http_get(port, "/from-attach")[0] == 404
                if select.select([attach.stdout], [], [], 0.5)[0]:
                    line = attach.stdout.readline()
                    break
    finally:
        attach.terminate()
        attach.wait(timeout=10)
    assert '"GET /from-attach HTTP/1.1" 404' in line and line.startswith("127.0.0.1 - - [")
    assert "nginx/" not in line  # the start-up lines were written before attaching


def test_attach_with_stdin_says_it_is_not_simulated(sandbox):  # noqa: F811
    _running(sandbox)
    proc = sandbox.kubectl("attach", "-i", "p", check=False)
    assert proc.returncode == 1 and f"pods/attach with stdin is {NOT_SIMULATED}" in proc.stderr
    assert "panic" not in proc.stderr


def test_cp_copies_files_out_of_and_into_a_container(sandbox, tmp_path):  # noqa: F811
    _running(sandbox)
    sandbox.kubectl("cp", "p:/etc/hosts", str(tmp_path / "hosts"))
    assert (tmp_path / "hosts").read_text().startswith("# Kubernetes-managed hosts file.\n")
    sandbox.kubectl("cp", "p:/etc", str(tmp_path / "etc"))
    assert sorted(f.name for f in (tmp_path / "etc").iterdir()) == ["hostname", "hosts", "resolv.conf"]
    upload = tmp_path / "notes.txt"
    upload.write_bytes(bytes(range(256)) * 400)  # binary, and larger than one WebSocket frame
    sandbox.kubectl("cp", str(upload), "p:/tmp/")
    assert "notes.txt" in sandbox.kubectl("exec", "p", "--", "ls", "/tmp").stdout
    sandbox.kubectl("cp", "p:/tmp/notes.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_bytes() == upload.read_bytes()
    proc = sandbox.kubectl("exec", "p", "--", "tar", "tvf", "-", check=False)
    assert proc.returncode == 127 and NOT_SIMULATED in proc.stderr


def test_run_rm_it_falls_back_and_cleans_up(sandbox):  # noqa: F811
    proc = sandbox.kubectl("run", "tmp", "--rm", "-it", "--image=busybox:1.36", "--restart=Never", "--", "sh")
    assert f"pods/attach with stdin is {NOT_SIMULATED}" in proc.stderr
    assert 'pod "tmp" deleted' in proc.stdout


def test_curl_and_wget_reach_in_cluster_services_through_the_simulated_network(sandbox):  # noqa: F811
    _running(sandbox)
    sandbox.kubectl("create", "namespace", "site")
    sandbox.kubectl("-n", "site", "run", "web", "--image=nginx:1.27", "--labels=app=web")
    sandbox.kubectl("-n", "site", "expose", "pod", "web", "--port=8000", "--target-port=80")
    sandbox.wait("-n", "site", "--for=condition=Ready", "pod/web")
    page = sandbox.kubectl("exec", "p", "--", "wget", "-qO-", "http://web.site:8000/").stdout
    assert "<h1>Welcome to nginx!</h1>" in page
    code = sandbox.kubectl("exec", "p", "--", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                           "web.site.svc.cluster.local:8000/missing").stdout
    assert code == "404"
    head = sandbox.kubectl("exec", "p", "--", "curl", "-sI", "web.site:8000").stdout
    assert head.startswith("HTTP/1.1 200 OK\n") and "Server: nginx/1.27\n" in head  # text mode: CR LF read as LF
    proc = sandbox.kubectl("exec", "p", "--", "curl", "-sS", "web:8000", check=False)  # not in this namespace
    assert proc.returncode == 6 and "Could not resolve host: web" in proc.stderr
    proc = sandbox.kubectl("exec", "p", "--", "curl", "-sS", "web.site:9999", check=False)
    assert proc.returncode == 7 and "Failed to connect to web.site port 9999" in proc.stderr
    proc = sandbox.kubectl("exec", "p", "--", "curl", "-sS", "https://example.com", check=False)
    assert proc.returncode == 1 and f"https is {NOT_SIMULATED}" in proc.stderr


def test_exec_cp_and_attach_over_spdy_as_older_kubectl_speaks(sandbox, tmp_path):  # noqa: F811
    """KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false: kubectl 1.32 speaks SPDY, as kubectl before 1.30 does by default."""
    env = {**kubectl_env(sandbox.home, sandbox.kubeconfig), "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"}

    def kubectl(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([require_kubectl(), *args], input=input, capture_output=True, text=True, env=env,
                              timeout=60)

    _running(sandbox)
    proc = kubectl("exec", "p", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (proc.returncode, proc.stdout) == (3, "out\n") and proc.stderr.startswith("err\n")
    assert "command terminated with exit code 3" in proc.stderr
    assert kubectl("exec", "-i", "p", "--", "cat", input="over spdy\n").stdout == "over spdy\n"
    (tmp_path / "up.txt").write_text("uploaded\n")
    assert kubectl("cp", str(tmp_path / "up.txt"), "p:/tmp/up.txt").returncode == 0
    assert kubectl("exec", "p", "--", "cat", "/tmp/up.txt").stdout == "uploaded\n"
    proc = kubectl("attach", "-i", "p")
    assert proc.returncode == 1 and f"pods/attach with stdin is {NOT_SIMULATED}" in proc.stderr
