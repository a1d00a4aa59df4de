"""Every combination of two sandbox faults, on the blog built by the lessons: explain, check --json,
map and the TUI's explanation panel never raise, and every failing check gets an honest
explanation (a title, a why, a fix; no placeholder, no None; a runnable argv or none).

A fixed list (all pairs, in order) with a bounded cost per pair: checks get a one-second timeout,
so the budget is a few seconds a pair. Effects that need longer (a crash loop's back-off) are not
waited for; whatever state the pair leaves is what is explained.
"""

from __future__ import annotations

import itertools
import json

import pytest

from sandboxlab import blog_lab
from test_property import assert_honest, assert_panel_renders
from tutorial.cli import main
from tutorial.engine.explain import step_explanation
from tutorial.sandbox.faults import FAULTS

PAIRS = list(itertools.combinations(sorted(FAULTS), 2))
STEPS = ("emojivoto/deploy", "httproute/apply-route", "reach-the-app/browse")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = blog_lab(tmp_path_factory.mktemp("faults"))
    try:
        yield lab
    finally:
        lab.stop()


def _cli(lab, *args: str, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--kubeconfig", str(lab.kubeconfig), "--context", "sandbox", *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("pair", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_two_faults_never_crash_and_are_explained_honestly(lab, pair, capsys):
    for name in pair:
        lab.faults.enable(name)
    try:
        lab.kubectl("delete", "pod", "-l", "app=web-svc", "-n", "emojivoto", "--wait=false", check=False)
        for target in STEPS:
            step = lab.step(target)
            results = lab.engine.check_step(step, timeout=1.0, record=False)
            if not all(r.passed for r in results):
                explanation = step_explanation(lab.engine, step, results)
                assert explanation is not None, [(r.check_id, r.observed) for r in results]
                assert_honest(explanation)
                assert_panel_renders(explanation)
        code, out = _cli(lab, "check", "httproute", "--json", "--timeout", "1", capsys=capsys)
        assert code in (0, 1, 3), out
        if code in (0, 1):
            for row in json.loads(out)["checks"]:
                if not row["passed"]:
                    assert row["explanation"], row
                    assert_honest(row["explanation"])
        code, out = _cli(lab, "map", "--json", capsys=capsys)
        assert code in (0, 1, 3), out
        if code in (0, 1):
            tmap = json.loads(out)
            assert "state" in json.dumps(tmap)
    finally:
        for name in pair:
            lab.faults.disable(name)
