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


def test_picking_a_production_context_in_the_app_does_not_switch_to_it(tmp_path, monkeypatch):
    from tests.ui.conftest import SIZE, demo_args, ready, run, until
    from tutorial.commands.tui import make_app
    from tutorial.cli import build_parser
    from tutorial.ui.screens.modals import PickerModal

    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("GATEWAY_TUTORIAL_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("KUBECONFIG", _kubeconfig(tmp_path / "kc", "shop-prod"))
    app = make_app(build_parser().parse_args(["--sandbox", "--lessons", demo_args()[2]]))

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            first = app.engine
            await pilot.press("C")
            await until(pilot, lambda: isinstance(app.screen, PickerModal))
            assert [key for key, _ in app.screen.choices] == ["shop-prod", "@sandbox"]
            await pilot.press("up", "enter")
            await until(pilot, lambda: app.engine is not None and app.engine is not first)
            assert app.engine.target.sandbox
            notice = str(app.screen.query_one("#notice").render())
            assert "shop-prod" in notice and "production" in notice

    run(scenario())
