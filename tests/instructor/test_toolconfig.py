"""The one-context kubeconfig a fleet's tools read: the same cluster, user and context word for word,
or no copy at all where the copy could mean something else (relative paths, auth-provider users)."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess

import pytest

from tutorial.instructor import toolconfig


def _config(cluster_extra=None, user_extra=None) -> dict:
    clusters = [{"name": f"c{i}", "cluster": {"server": f"https://10.0.0.{i}:6443",
                                               "certificate-authority-data": "Q0E=", **(cluster_extra or {})}}
                for i in range(3)]
    users = [{"name": f"u{i}", "user": {"token": f"t{i}", **(user_extra or {})}} for i in range(3)]
    contexts = [{"name": f"lab{i}", "context": {"cluster": f"c{i}", "user": f"u{i}", "namespace": "x"}}
                for i in range(3)]
    return {"apiVersion": "v1", "kind": "Config", "current-context": "lab0", "clusters": clusters, "users": users,
            "contexts": contexts}


def test_keeps_only_the_context_its_cluster_and_user_unchanged():
    full = _config()
    one = toolconfig.one_context(full, "lab1")
    assert one["current-context"] == "lab1"
    assert one["contexts"] == [full["contexts"][1]]
    assert one["clusters"] == [full["clusters"][1]] and one["users"] == [full["users"][1]]
    assert toolconfig.one_context(full, "nope") is None and toolconfig.one_context(None, "lab1") is None


@pytest.mark.parametrize("cluster_extra, user_extra", [
    ({"certificate-authority": "certs/ca.crt"}, None),
    (None, {"client-certificate": "me.crt"}),
    (None, {"tokenFile": "token"}),
    (None, {"auth-provider": {"name": "oidc", "config": {}}}),
    (None, {"exec": {"command": "./bin/get-token", "apiVersion": "client.authentication.k8s.io/v1"}}),
])
def test_no_copy_where_it_could_mean_something_else(cluster_extra, user_extra):
    assert toolconfig.one_context(_config(cluster_extra, user_extra), "lab1") is None


def test_absolute_paths_and_commands_on_path_are_copied():
    one = toolconfig.one_context(_config({"certificate-authority": "/etc/ca.crt"},
                                         {"exec": {"command": "gke-gcloud-auth-plugin"}}), "lab2")
    assert one["clusters"][0]["cluster"]["certificate-authority"] == "/etc/ca.crt"


def test_written_for_its_owner_only_and_kubectl_reads_it(tmp_path):
    path = toolconfig.write(toolconfig.one_context(_config(), "lab1"), tmp_path / "lab1" / "kubeconfig")
    assert stat.S_IMODE((tmp_path / "lab1" / "kubeconfig").stat().st_mode) == 0o600
    assert json.loads((tmp_path / "lab1" / "kubeconfig").read_text())["current-context"] == "lab1"
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    view = subprocess.run(["kubectl", "--kubeconfig", path, "--context", "lab1", "config", "view", "--minify",
                           "-o", "jsonpath={.clusters[0].cluster.server} {.contexts[0].context.namespace}"],
                          capture_output=True, text=True, timeout=60, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert view.returncode == 0 and view.stdout == "https://10.0.0.1:6443 x", view.stderr


def test_go_tools_get_a_lazier_collector_unless_the_instructor_chose_one(monkeypatch):
    from tutorial.instructor.fleet import GO_GC_PERCENT, go_tool_env

    monkeypatch.delenv("GOGC", raising=False)
    assert go_tool_env() == {"GOGC": GO_GC_PERCENT}
    monkeypatch.setenv("GOGC", "50")
    assert go_tool_env() == {}  # theirs stays (build_env copies the environment)
