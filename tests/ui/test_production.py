"""The TUI asks before it can touch a production-looking context, before the app even starts."""

from __future__ import annotations

from tutorial.cli import main


def _kubeconfig(path, context: str) -> str:
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:9"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: {context}, context: {{cluster: c, user: u}}}}]
current-context: {context}
""")
    return str(path)


def test_production_context_is_refused_without_confirmation(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("GATEWAY_TUTORIAL_CONFIG_DIR", str(tmp_path / "config"))
    code = main(["--kubeconfig", _kubeconfig(tmp_path / "kc", "eu-prod-1")])
    err = capsys.readouterr().err
    assert code == 2
    assert "eu-prod-1" in err and "--allow-production eu-prod-1" in err


def test_allow_production_names_the_context(tmp_path, monkeypatch, capsys):
    from tutorial.commands.tui import production_confirmed
    from tutorial.cli import build_parser

    monkeypatch.setenv("GATEWAY_TUTORIAL_CONFIG_DIR", str(tmp_path / "config"))
    kc = _kubeconfig(tmp_path / "kc", "eu-prod-1")
    assert production_confirmed(build_parser().parse_args(["--kubeconfig", kc, "--allow-production", "eu-prod-1"]))
    assert not production_confirmed(build_parser().parse_args(["--kubeconfig", kc, "--allow-production", "other"]))
    lab = _kubeconfig(tmp_path / "lab", "lab-07")
    assert production_confirmed(build_parser().parse_args(["--kubeconfig", lab]))
