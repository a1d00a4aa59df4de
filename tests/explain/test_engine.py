"""How rules are chosen and filled in: lesson rules first, tiers, facts, templates, the generic
fallback, rule-file validation, and the printed form."""

from __future__ import annotations

import re
import string

import pytest

from recorded import cond, gateway, http_check, listener, parent, route, route_check
from test_rules import CASES
from tutorial.engine.checks import CheckResult
from tutorial.engine.explain import explain, explain_evidence, fill
from tutorial.engine.explain_rules import RuleError, load_rules, make_rule
from tutorial.engine.explain_rules.facts import facts_of
from tutorial.lessons.models import Check, Explanation, Step

NOT_ALLOWED = cond("Accepted", "False", "NotAllowedByListeners",
                   'hostnames matched parent hostname "", but namespace "emojivoto" is not allowed by the parent')


def _step(*explanations, checks=()):
    return Step(id="apply-route", lesson_id="httproute", title="t", text="", checks=tuple(checks),
                explanations=tuple(explanations))


def test_a_lesson_rule_wins_over_the_built_in_ones():
    own = Explanation(id="our-selector", when={"reason": "NotAllowedByListeners", "message_contains": "not allowed"},
                      title="Our own words", why="why", fix="fix", fix_command=("kubectl", "get", "gtw"))
    ev = route_check(route(parents=[parent([NOT_ALLOWED])]), gw=gateway(listeners=[listener(allowed_from="Same")]))
    view = explain_evidence(ev, _step(own))
    assert (view.rule_id, view.source, view.fix_command) == ("our-selector", "lesson", ["kubectl", "get", "gtw"])
    assert explain_evidence(ev).rule_id == "route-not-allowed-same-namespace"


def test_a_lesson_rule_in_a_later_tier_still_comes_first():
    own = Explanation(id="status-500", when={"http_status": 500}, title="Ours", why="w", fix="f")
    ev = http_check(500, routes=[route(parents=[parent([cond("Accepted", "True", "Accepted", "ok"), cond(
        "ResolvedRefs", "False", "BackendNotFound", "backend(web.emojivoto.svc.cluster.local) not found")])])])
    assert explain_evidence(ev).rule_id == "route-backend-not-found"
    assert explain_evidence(ev, _step(own)).rule_id == "status-500"


def test_the_route_reason_explains_a_404_before_the_404_itself():
    ev = http_check(404, gw=gateway(listeners=[listener(allowed_from="Same", attached=0)]),
                    routes=[route(parents=[parent([NOT_ALLOWED])])])
    view = explain_evidence(ev)
    assert view.rule_id == "route-not-allowed-same-namespace"
    assert "HTTP 404" in view.observed[0] and "NotAllowedByListeners" in view.observed[1]


def test_an_absent_fact_is_not_false():
    rule = make_rule({"id": "r", "when": {"source": "check", "facts": {"istio_ready": False}}, "title": "t",
                      "why": "w", "fix": "f"})
    ev = {"check": {"id": "c", "kind": "condition", "observed": "x"}}
    assert explain_evidence(ev, rules=[rule]).rule_id == "generic"
    ev["istio"] = {"installed": True, "ready": False}
    assert explain_evidence(ev, rules=[rule]).rule_id == "r"


def test_healthy_conditions_are_not_problems():
    ev = {"check": {"id": "c", "kind": "condition", "observed": "Gateway g: fine"},
          "object": {"kind": "Gateway", "name": "g", "namespace": "n", "found": True},
          "conditions": [cond("Accepted", "True", "Accepted", "ok"), cond("Conflicted", "False", "NoConflicts", "ok")]}
    assert explain_evidence(ev).rule_id == "generic"
    ev["conditions"].append(cond("Conflicted", "True", "Weird", "clash"))
    assert explain_evidence(ev).rule_id == "condition-false"


def test_a_fix_command_with_an_unknown_name_is_dropped_not_guessed():
    rule = make_rule({"id": "r", "when": {"source": "check"}, "title": "about {gateway}", "why": "w", "fix": "f",
                      "fix_command": ["kubectl", "describe", "gtw", "{gateway}"]})
    view = explain_evidence({"check": {"id": "c", "kind": "condition", "observed": "x"}}, rules=[rule])
    assert view.fix_command is None and "<gateway>" not in view.title and view.title == "The check failed"
    rule = make_rule({"id": "r", "when": {"source": "check"}, "title": "t", "why": "Known. Names {gateway}. Done.",
                      "fix": "Do {gateway}.", "fix_command": None})
    view = explain_evidence({"check": {"id": "c", "kind": "condition", "observed": "x"}}, rules=[rule])
    assert view.why == "Known. Done." and "{" not in view.fix and "<" not in view.fix and view.fix
    assert fill("{a} and {{literal}}", {"a": "x"}) == ("x and {literal}", set())


def test_generic_explanation_is_honest_and_carries_the_evidence():
    ev = {"check": {"id": "odd", "kind": "condition", "title": "Widget ready", "observed": "Widget w: Ready not reported"},
          "object": {"kind": "Widget", "name": "w", "namespace": "x", "found": True}, "conditions": [],
          "events": [{"kind": "Widget", "name": "w", "type": "Normal", "reason": "Thinking", "message": "hmm"}]}
    view = explain_evidence(ev)
    assert view.rule_id == "generic" and "does not recognise" in view.title
    assert view.fix_command == ["kubectl", "describe", "widget", "w", "-n", "x"]
    assert view.observed == ["Widget w: Ready not reported"]
    assert view.to_json()["evidence"]["events"][0]["reason"] == "Thinking"
    assert "evidence" not in explain_evidence(CASES["http-404"]).to_json()
    ev["conditions"] = [cond("Ready", "Unknown", "Thinking", "hmm")]
    view = explain_evidence(ev)
    assert (view.rule_id, view.title) == ("condition-false", "Widget w reports Ready Thinking")


def test_explain_covers_the_failed_command_and_each_failing_check():
    from tutorial.engine.runner import CommandResult
    from tutorial.engine.session import StepOutcome

    chk = Check(kind="condition", id="gw", title="Gateway accepted",
                params={"object_kind": "Gateway", "name": "emojivoto", "namespace": "istio-ingress"})
    step = _step(checks=[chk])
    failed = CommandResult(argv=["kubectl", "apply", "-f", "-"], exit_code=1, stdout="", duration=0.1,
                           stderr='Error from server (NotFound): namespaces "istio-ingress" not found')
    results = [CheckResult("gw", "condition", "Gateway accepted", False, "Gateway emojivoto not found",
                           evidence={"objects": [], "ref": {"kind": "Gateway", "name": "emojivoto",
                                                            "namespace": "istio-ingress"}}),
               CheckResult("other", "condition", "fine", True, "ok")]
    views = explain(step, results, outcome=StepOutcome(step, commands=[failed]))
    assert [v.rule_id for v in views] == ["cli-namespace-not-found", "gateway-not-found"]
    assert views[0].fix_command == ["kubectl", "create", "namespace", "istio-ingress"]


@pytest.mark.parametrize("raw, problem", [
    ({"id": "x", "when": {"reason": "A"}, "title": "t", "why": "w", "fix": "f", "extra": 1}, "unknown key"),
    ({"id": "x", "when": {"colour": "red"}, "title": "t", "why": "w", "fix": "f"}, "`when` needs"),
    ({"id": "x", "when": {"pattern": "("}, "title": "t", "why": "w", "fix": "f"}, "bad pattern"),
    ({"id": "x", "when": {"reason": "A"}, "title": "", "why": "w", "fix": "f"}, "title must be"),
])
def test_rule_files_are_validated(raw, problem):
    with pytest.raises(RuleError, match=problem):
        make_rule(raw, where="test.yaml")


def test_every_rule_says_what_it_covers_and_uses_only_known_names():
    known = set()
    for ev in CASES.values():
        known |= set(facts_of(ev))
    known |= {f"signal_{k}" for k in ("object_kind", "name", "namespace", "type", "reason", "message", "kind_lower")}
    known.add("step_target")  # explain_evidence adds the step's target when it knows the step
    for rule in load_rules():
        assert rule.covers, f"{rule.id} lists no covered reason or error (docs/explanations.md)"
        names = set(known) | set(rule.pattern.groupindex if rule.pattern else ())
        for text in (rule.title, rule.why, rule.fix, *(rule.fix_command or ())):
            used = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert used <= names, f"{rule.id}: unknown name(s) {sorted(used - names)} in {text!r}"


def test_lesson_explanations_load_as_rules():
    from tutorial.engine.explain_rules import lesson_rule
    from tutorial.lessons import load_lessons
    from tutorial.paths import assets_dir, lessons_dir

    lessons = load_lessons(lessons_dir(), assets_dir())
    for lesson in lessons.lessons:
        for step in lesson.steps:
            for e in step.explanations:
                assert lesson_rule(e).source == "lesson"


def test_printed_explanation_has_title_observed_why_fix_and_command():
    from rich.console import Console

    from tutorial.commands.explain import print_explanation

    out = Console(record=True, width=200)
    view = explain_evidence(CASES["route-not-allowed-same-namespace"])
    print_explanation(out, _step(), view)
    text = out.export_text()
    for part in ("Gateway emojivoto only accepts routes", "What the cluster shows", "NotAllowedByListeners",
                 "Why:", "Fix:", "$ kubectl patch gateway.gateway.networking.k8s.io emojivoto -n istio-ingress"):
        assert part in text, part
    assert re.search(r"\[cyan\]", text) is None  # markup rendered, not printed


def test_docs_table_is_current():
    import docs_table

    if not docs_table.DOC.exists():
        pytest.fail("docs/explanations.md is missing; run python tests/explain/docs_table.py --write")
    text = docs_table.DOC.read_text(encoding="utf-8")
    assert text == docs_table.render(text), \
        "docs/explanations.md is stale: run /work/venv/bin/python tests/explain/docs_table.py --write"


@pytest.mark.parametrize("context, nodes, flavor, words", [
    ("kind-kind", ["kind-control-plane"], "kind", "cloud-provider-kind"),
    ("minikube", ["minikube"], "minikube", "minikube tunnel"),
    ("k3d-demo", ["k3d-demo-server-0"], "k3d", "8080:8080@loadbalancer"),
    ("prod-eu", ["ip-10-0-0-1"], "other", "MetalLB"),
])
def test_the_load_balancer_fix_fits_the_cluster(context, nodes, flavor, words):
    from tutorial.engine.explain_rules.summaries import cluster_flavor

    assert cluster_flavor(context, nodes) == flavor
    ev = dict(CASES["istio-lb-pending"], cluster={"context": context, "flavor": flavor})
    view = explain_evidence(ev)
    assert view.rule_id == "istio-lb-pending" and words in view.fix
    assert view.fix_command == ["kubectl", "port-forward", "-n", "istio-ingress", "svc/emojivoto-istio", "8080:8080"]


def test_k3d_load_balancer_advice_names_the_learners_cluster():
    from tutorial.engine.explain_rules.facts import facts_of

    facts = facts_of({"check": {"id": "c", "kind": "gateway_programmed"},
                      "cluster": {"flavor": "k3d", "context": "k3d-lab"}})
    assert 'k3d cluster create lab -p "8080:8080@loadbalancer"' in facts["lb_fix"]
    assert "NAME" not in facts["lb_fix"]
