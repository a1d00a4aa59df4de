"""The CLI while checks wait: a line per change of what they see, and `check --explain-now`
explains the current state at once (no waiting), with the same rules as `explain`."""

from __future__ import annotations

import yaml

from sandboxlab import asset
from tutorial.cli import main


def _cli(blog, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--kubeconfig", str(blog.kubeconfig), "--context", "sandbox", *args])
    return code, capsys.readouterr().out


def test_check_shows_what_it_sees_then_fails_settled(blog, capsys):
    rt = asset("httproute.yaml")
    rt["spec"]["rules"][0]["backendRefs"][0]["name"] = "web"
    blog.apply(yaml.safe_dump(rt))
    try:
        blog.wait("--for=jsonpath={.status.parents[0].conditions[1].reason}=BackendNotFound", "httproute/emojivoto",
                  "-n", "emojivoto")
        code, out = _cli(blog, capsys, "check", "httproute", "--timeout", "90")
        assert code == 1
        assert "… waiting:" in out and "BackendNotFound" in out  # the live observation, as lines off a terminal
        code, out = _cli(blog, capsys, "check", "httproute", "--explain-now")
        assert code == 1
        assert "Why:" in out and "Fix:" in out and "web-svc" in out
    finally:
        blog.apply(yaml.safe_dump(asset("httproute.yaml")))
