"""The recap after the last step: the finished lab's map, the role model, the commands, what next."""

from __future__ import annotations

import pytest

from tests.ui.conftest import drive, finished, until
from tests.ui.test_snapshots import settle
from tutorial.ui.screens.recap import RecapScreen


def _walk_all(app) -> None:
    engine = app.engine
    for _, step in engine.steps("all"):
        outcome = engine.run_step(step, solve=True)
        assert outcome.ok, step.target


def _recap_text(app) -> str:
    body = app.screen.query_one("#recap-body")
    return "\n".join(str(w.render()) for w in body.query("Static, Label")) + "\n" + \
        "\n".join(m.source for m in body.query("Markdown"))


def test_last_step_offers_the_recap_and_it_shows_what_was_built(build):
    app = build("--sandbox")

    async def scenario(pilot):
        _walk_all(app)
        app.open_step("reach-the-app/browse")
        await pilot.pause()
        await pilot.press("c")
        await finished(pilot)
        status = str(app.screen.query_one("#output-status").render())
        assert "R shows the recap" in status
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, RecapScreen)
                    and app.screen.query("#recap-objects"), timeout=60)
        text = _recap_text(app)
        steps = len(app.engine.steps("all"))
        assert f"{steps} of {steps} steps done" in text
        assert "whole path healthy" in text  # the finished lab's traffic map
        for owner in ("cluster operator", "app team", "infrastructure provider"):
            assert owner in text
        assert "Gateway istio-ingress/emojivoto** — ✔ there" in text
        assert "HTTPRoute emojivoto/emojivoto** — ✔ there" in text
        assert "$ kubectl apply -f - --context sandbox <<'EOF'" in text  # the commands used
        assert "canary" in text  # what to try next
        await pilot.press("escape")
        assert not isinstance(app.screen, RecapScreen)

    drive(app, scenario)


def _show_with_fixed_address(app) -> None:
    """The recap again, through the screen's own message, with the Gateway's address (taken from
    this process's random loopback block) shown as a fixed one, so the snapshot is stable."""
    import re

    from tutorial.engine.recap import build as build_recap
    from tutorial.ui.screens.recap import RecapRead

    recap = build_recap(app.engine)
    fixed = lambda text: re.sub(r"127\.\d+\.\d+\.\d+", "127.0.0.2", text) if text else text
    masked = 0
    for node in recap.tmap.nodes():
        masked += fixed(node.word) != node.word
        node.word = fixed(node.word)
        if node.link is not None:
            masked += fixed(node.link.word) != node.link.word
            node.link.word = fixed(node.link.word)
    assert masked, "the finished lab's map names the Gateway's address"
    app.screen.post_message(RecapRead(recap))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_recap(snap_compare, build, size):
    async def before(pilot):
        await settle(pilot)
        _walk_all(pilot.app)
        await pilot.press("R")
        await until(pilot, lambda: pilot.app.screen.query("#recap-objects"), timeout=60)
        _show_with_fixed_address(pilot.app)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(build("--sandbox"), terminal_size=size, run_before=before)
