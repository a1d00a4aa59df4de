"""Kubeconfig resolution and merging, compared with what real kubectl reports."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tutorial.cluster.kubeconfig import (
    ContextNotFound,
    KubeconfigError,
    MalformedKubeconfig,
    NoKubeconfig,
    load_kubeconfig,
    resolve_context,
)


def _write(path, contexts: dict[str, tuple[str, str]], current: str | None = None,
           namespace: str | None = None):
    """A kubeconfig with one cluster per context: name -> (cluster name, server)."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:"]
    for cluster, server in {c: s for c, s in contexts.values()}.items():
        lines += [f"- name: {cluster}", "  cluster:", f"    server: {server}"]
    lines += ["users:", "- name: u", "  user:", "    token: t", "contexts:"]
    for name, (cluster, _) in contexts.items():
        lines += [f"- name: {name}", "  context:", f"    cluster: {cluster}", "    user: u"]
        if namespace:
            lines.append(f"    namespace: {namespace}")
    if current:
        lines.append(f"current-context: {current}")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _kubectl_view(env: dict[str, str], *extra: str) -> dict:
    """What real kubectl merges for the same inputs."""
    out = subprocess.run(["kubectl", "config", "view", "--raw", "-o", "json", *extra],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_kubeconfig_list_merges_like_kubectl(tmp_path):
    a = _write(tmp_path / "a", {"shared": ("c1", "http://127.0.0.1:1"), "only-a": ("c1", "http://127.0.0.1:1")})
    b = _write(tmp_path / "b", {"shared": ("c2", "http://127.0.0.1:2"), "only-b": ("c2", "http://127.0.0.1:2")},
               current="only-b")
    env = {"KUBECONFIG": os.pathsep.join(["", str(tmp_path / "missing"), a, "", b, a]),
           "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    view = load_kubeconfig(env=env)
    assert view.files == [a, b]
    assert view.current_context == "only-b"  # a sets none, so b's wins
    assert view.server_for("shared") == "http://127.0.0.1:1"  # first file's entry wins
    real = _kubectl_view(env)
    assert real["current-context"] == view.current_context
    assert {c["name"]: c["context"]["cluster"] for c in real["contexts"]} == {
        n: c["cluster"] for n, c in view.contexts.items()}
    assert {c["name"]: c["cluster"]["server"] for c in real["clusters"]} == {
        n: c["server"] for n, c in view.clusters.items()}
    again = load_kubeconfig(env={"KUBECONFIG": view.kubeconfig_arg})
    assert again.contexts == view.contexts and again.current_context == view.current_context


def test_first_file_current_context_wins(tmp_path):
    a = _write(tmp_path / "a", {"x": ("c", "http://127.0.0.1:1")}, current="x")
    b = _write(tmp_path / "b", {"why": ("d", "http://127.0.0.1:2")}, current="why")
    view = load_kubeconfig(env={"KUBECONFIG": os.pathsep.join([a, b])})
    assert view.current_context == "x"
    assert resolve_context(view, None) == ("x", "http://127.0.0.1:1")
    assert resolve_context(view, "why") == ("why", "http://127.0.0.1:2")


def test_explicit_kubeconfig_wins_over_env(tmp_path):
    a = _write(tmp_path / "a", {"x": ("c", "http://127.0.0.1:1")}, current="x")
    b = _write(tmp_path / "b", {"why": ("d", "http://127.0.0.1:2")}, current="why")
    view = load_kubeconfig(explicit=b, env={"KUBECONFIG": a})
    assert view.files == [b] and set(view.contexts) == {"why"}
    assert view.kubeconfig_arg == b
    real = _kubectl_view({"KUBECONFIG": a, "PATH": os.environ["PATH"]}, "--kubeconfig", b)
    assert real["current-context"] == view.current_context


def test_home_default_when_kubeconfig_unset_or_empty(tmp_path):
    (tmp_path / ".kube").mkdir()
    home_cfg = _write(tmp_path / ".kube" / "config", {"home": ("h", "http://127.0.0.1:3")},
                      current="home", namespace="emojivoto")
    for env in ({"HOME": str(tmp_path)}, {"HOME": str(tmp_path), "KUBECONFIG": ""}):
        view = load_kubeconfig(env=env)
        assert view.files == [home_cfg]
        assert view.contexts["home"]["namespace"] == "emojivoto"


def test_no_kubeconfig_is_a_clear_result(tmp_path):
    view = load_kubeconfig(env={"HOME": str(tmp_path)})
    assert view.empty and view.kubeconfig_arg is None
    with pytest.raises(NoKubeconfig, match="--sandbox"):
        resolve_context(view, None)
    missing = load_kubeconfig(env={"KUBECONFIG": str(tmp_path / "nope")})
    assert missing.empty


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(NoKubeconfig, match="no such file"):
        load_kubeconfig(explicit=str(tmp_path / "nope"), env={})


def test_unknown_context_lists_available(tmp_path):
    a = _write(tmp_path / "a", {"kind-lab": ("c", "http://127.0.0.1:1"), "prod": ("c", "http://127.0.0.1:1")})
    view = load_kubeconfig(env={"KUBECONFIG": a})
    with pytest.raises(ContextNotFound) as info:
        resolve_context(view, "nope")
    message = str(info.value)
    assert "context was not found for specified context: nope" in message
    assert "kind-lab, prod" in message
    with pytest.raises(ContextNotFound, match="no current context"):
        resolve_context(view, None)


def test_context_whose_cluster_is_missing(tmp_path):
    path = tmp_path / "k"
    path.write_text("contexts:\n- name: x\n  context:\n    cluster: gone\n    user: u\n"
                    "current-context: x\n")
    view = load_kubeconfig(env={"KUBECONFIG": str(path)})
    with pytest.raises(KubeconfigError, match="no server"):
        resolve_context(view, None)


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad"
    path.write_text("apiVersion: v1\nclusters:\n- name: a\n  cluster: [unclosed\ncontexts: {}\n")
    with pytest.raises(MalformedKubeconfig) as info:
        load_kubeconfig(env={"KUBECONFIG": str(path)})
    assert info.value.path == str(path) and info.value.line is not None
    assert str(info.value).startswith(f"{path}:{info.value.line}: not valid YAML")


@pytest.mark.parametrize("text", ["- just\n- a list\n", "contexts: 5\n", "contexts:\n- nope\n",
                                  "clusters:\n- name: a\n  cluster: text\n"])
def test_wrong_shape_is_malformed(tmp_path, text):
    path = tmp_path / "shape"
    path.write_text(text)
    with pytest.raises(MalformedKubeconfig, match=str(path)):
        load_kubeconfig(explicit=str(path))


def test_empty_file_is_an_empty_config(tmp_path):
    path = tmp_path / "empty"
    path.write_text("")
    view = load_kubeconfig(explicit=str(path))
    assert view.files == [str(path)] and view.contexts == {} and not view.empty


def test_module_does_not_import_kubernetes():
    code = ("import sys, tutorial.cluster.kubeconfig as k; k.load_kubeconfig(env={'HOME': '/nonexistent'});"
            "print('kubernetes' in sys.modules)")
    out = subprocess.run([os.sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_relative_paths_become_absolute(tmp_path, monkeypatch):
    _write(tmp_path / "rel", {"x": ("c", "http://127.0.0.1:1")}, current="x")
    monkeypatch.chdir(tmp_path)
    view = load_kubeconfig(env={"KUBECONFIG": "rel"})
    assert view.files == [str(tmp_path / "rel")]
