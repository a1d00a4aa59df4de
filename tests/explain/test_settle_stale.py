"""A condition caused by another object may be stale however long it has stood: a route refused
by its parent Gateway (NotAllowedByListeners) stays so until istiod's next pass after the Gateway
is fixed. Such states count as settled only once this check has itself seen them for the data's
`seen_grace` (terminal.yaml), never at the first look. Pure judgement, no cluster: the check's
own clock of first sightings is moved back instead of waiting."""

from __future__ import annotations

from tutorial.engine.settle import Watch
from tutorial.engine.terminal import terminal_data

ROUTE = {
    "kind": "HTTPRoute",
    "metadata": {"name": "emojivoto", "namespace": "emojivoto", "generation": 1},
    "spec": {"parentRefs": [{"name": "emojivoto", "namespace": "istio-ingress"}]},
    "status": {"parents": [{
        "parentRef": {"name": "emojivoto", "namespace": "istio-ingress"},
        "controllerName": "istio.io/gateway-controller",
        "conditions": [{"type": "Accepted", "status": "False", "reason": "NotAllowedByListeners",
                        "observedGeneration": 1, "lastTransitionTime": "2026-01-01T00:00:00Z",
                        "message": 'hostnames matched parent hostname "", but namespace "emojivoto" is not allowed by the parent'}],
    }]},
}


def _seen_grace() -> float:
    entry = next(e for e in terminal_data()["conditions"] if "NotAllowedByListeners" in e["reasons"])
    return float(entry["seen_grace"])


def test_a_refused_route_is_not_settled_at_first_sight_even_if_its_condition_is_old():
    watch = Watch("route_accepted", {"name": "emojivoto", "namespace": "emojivoto"})
    why, text = watch.assess([ROUTE])
    assert why is None and "NotAllowedByListeners" in text


def test_a_refused_route_seen_for_the_grace_is_settled():
    watch = Watch("route_accepted", {"name": "emojivoto", "namespace": "emojivoto"})
    assert watch.assess([ROUTE])[0] is None
    for key in watch._first_seen:  # as if the first sighting were longer ago than the grace
        watch._first_seen[key] -= _seen_grace() + 0.1
    why, _ = watch.assess([ROUTE])
    assert why is not None and "NotAllowedByListeners" in why and "not allowed by the parent" in why
