"""The embedded sandbox: state on disk across restarts, one writer, takeover after a crash, reset."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cluster_fixtures import deployment_yaml, fast_settings, run_kubectl

from tutorial.sandbox.cluster import SandboxError
from tutorial.sandbox.embedded import acquire_embedded, read_owner, reset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def base(tmp_path):
    return tmp_path / "state" / "sandbox"


def _kubectl(tmp: Path, sb, *args: str, check: bool = True):
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return run_kubectl(home, sb.kubeconfig, "--context", sb.context, *args, check=check)


def test_state_survives_a_restart(tmp_path, base):
    first = acquire_embedded(base, settings=fast_settings())
    try:
        assert first.owned and first.context == "sandbox"
        _kubectl(tmp_path, first, "create", "namespace", "keep-me")
        run_kubectl(tmp_path / "home", first.kubeconfig, "apply", "-f", "-",
                    input=deployment_yaml("web", ns="keep-me"))
        _kubectl(tmp_path, first, "rollout", "status", "-n", "keep-me", "deployment/web", "--timeout=30s")
    finally:
        first.release()
    assert read_owner(base) is None  # a clean stop leaves no owner behind
    second = acquire_embedded(base, settings=fast_settings())
    try:
        assert second.owned and second.notices == []
        assert "keep-me" in _kubectl(tmp_path, second, "get", "namespaces").stdout
        _kubectl(tmp_path, second, "wait", "-n", "keep-me", "--for=condition=Available",
                 "deployment/web", "--timeout=30s")
    finally:
        second.release()


def test_second_acquire_connects_to_the_serving_one(tmp_path, base):
    owner = acquire_embedded(base, settings=fast_settings())
    try:
        guest = acquire_embedded(base)
        assert guest.owned is False and guest.url == owner.url and guest.kubeconfig == owner.kubeconfig
        guest.release()  # a guest's release must not stop the owner's cluster
        assert "kube-system" in _kubectl(tmp_path, owner, "get", "namespaces").stdout
    finally:
        owner.release()


CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tutorial.sandbox.embedded import acquire_embedded
    sb = acquire_embedded(Path(sys.argv[1]))
    sb.cluster.store.create(("", "namespaces"), {"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "from-child"}, "spec": {"finalizers": ["kubernetes"]}})
    sb.cluster.persister.flush()
    print(sb.url, flush=True)
    sys.stdin.read()
""")


def test_another_process_serves_then_is_killed_and_we_take_over(tmp_path, base):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(base)], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        url = child.stdout.readline().strip()
        guest = acquire_embedded(base)
        assert guest.owned is False and guest.url == url
        assert "from-child" in _kubectl(tmp_path, guest, "get", "namespaces").stdout
        with pytest.raises(SandboxError, match=f"in use by process {child.pid}"):
            reset(base)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert read_owner(base)["pid"] == child.pid  # stale: the killed owner could not clean up
    heir = acquire_embedded(base, settings=fast_settings())
    try:
        assert heir.owned and heir.notices == []
        assert "from-child" in _kubectl(tmp_path, heir, "get", "namespaces").stdout
    finally:
        heir.release()


def test_corrupt_store_is_moved_aside_with_a_message(tmp_path, base):
    base.mkdir(parents=True)
    (base / "store.json").write_text('{"format": "gateway-tutorial-sandbox/v1", "snapsh', encoding="utf-8")
    sb = acquire_embedded(base, settings=fast_settings())
    try:
        assert len(sb.notices) == 1 and "moved to" in sb.notices[0]
        assert list(base.glob("store.json.corrupt-*"))
        assert "kube-system" in _kubectl(tmp_path, sb, "get", "namespaces").stdout
    finally:
        sb.release()


def test_reset_command_refuses_while_served_then_empties(tmp_path, base):
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(base.parent)}
    cmd = [sys.executable, "-m", "tutorial", "sandbox", "reset"]
    sb = acquire_embedded(base, settings=fast_settings())
    try:
        _kubectl(tmp_path, sb, "create", "namespace", "gone-after-reset")
        busy = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert busy.returncode == 1 and "in use by process" in busy.stderr
    finally:
        sb.release()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "empty now" in done.stdout
    fresh = acquire_embedded(base, settings=fast_settings())
    try:
        assert "gone-after-reset" not in _kubectl(tmp_path, fresh, "get", "namespaces").stdout
    finally:
        fresh.release()


def test_unwritable_state_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SandboxError, match="GATEWAY_TUTORIAL_STATE_DIR"):
        acquire_embedded(blocker / "sandbox")
