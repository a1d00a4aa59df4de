"""Going back to Gateway API v1.3.0 from a newer bundle: the commands, in the learner's names.

A newer bundle leaves two things that stop or spoil a plain `kubectl apply` of v1.3.0: from v1.5
the `safe-upgrades` ValidatingAdmissionPolicy and its binding (both named
safe-upgrades.gateway.networking.k8s.io upstream) refuse any CRD whose bundle-version is older,
and CRDs that v1.3.0 does not ship (v1.4 adds backendtlspolicies; v1.5 listenersets and
tlsroutes; v1.6 tcproutes and udproutes) would stay behind at their newer version. doctor and
the explanation both print these commands, so they always agree. Nothing here writes.
"""

from __future__ import annotations

import shlex
from typing import Iterable

GROUP = "gateway.networking.k8s.io"
SAFE_UPGRADES = f"safe-upgrades.{GROUP}"  # the policy and its binding share the name (v1.5.0 and later)
V1_3_CRDS = tuple(f"{plural}.{GROUP}" for plural in
                  ("gatewayclasses", "gateways", "grpcroutes", "httproutes", "referencegrants"))
V1_3_URL = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml"
POLICY_KINDS = "validatingadmissionpolicybinding,validatingadmissionpolicy"


def extra_crds(names: Iterable[str]) -> list[str]:
    """The Gateway API CRDs (group gateway.networking.k8s.io) that v1.3.0's standard file lacks."""
    return sorted(n for n in set(names) if n.endswith(f".{GROUP}") and n not in V1_3_CRDS)


def downgrade_commands(extra: Iterable[str]) -> list[list[str]]:
    """In order: remove the policy and binding, the extra CRDs, then apply v1.3.0. The first is
    always there (--ignore-not-found makes it safe on a v1.4 bundle), so the explanation's one
    runnable fix command is always the right first step."""
    commands = [["kubectl", "delete", POLICY_KINDS, SAFE_UPGRADES, "--ignore-not-found"]]
    extra = sorted(extra)
    if extra:
        commands.append(["kubectl", "delete", "crd", *extra])
    commands.append(["kubectl", "apply", "-f", V1_3_URL])
    return commands


def as_text(commands: list[list[str]]) -> str:
    """The commands as one sentence a learner can copy from: each in backticks, in order."""
    return ", then ".join(f"`{shlex.join(c)}`" for c in commands)


def downgrade_advice(extra: Iterable[str], policy: bool) -> str:
    """What to run, and what the deletions cost, in one paragraph."""
    extra = sorted(extra)
    lost = (f" Deleting a CRD deletes every object of its kind ({', '.join(n.split('.')[0] for n in extra)}); "
            "the tutorial uses none of them." if extra else "")
    refuse = (" The safe-upgrades policy is on this cluster and goes first: while it is there the API server "
              "refuses CRDs from an older bundle." if policy else "")
    return f"Run, in order: {as_text(downgrade_commands(extra))}.{refuse}{lost}"


def read_newer_bundle(client) -> tuple[list[str], bool]:
    """(extra CRD names, whether the safe-upgrades policy or binding exists) as the cluster has them."""
    crd_ref = client.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    names = [(c.get("metadata") or {}).get("name", "") for c in client.list(crd_ref)[0]
             if (c.get("spec") or {}).get("group") == GROUP]
    policy = any(client.get(client.resource("admissionregistration.k8s.io/v1", kind), None, SAFE_UPGRADES) is not None
                 for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"))
    return extra_crds(names), policy


def newer_crds_fix(client) -> str:
    """doctor's fix for CRDs too new for this Istio: the commands for what this cluster has; if the
    cluster will not say, every step (the deletions are safe to run when nothing is there)."""
    from tutorial.cluster.client import ClusterError

    try:
        extra, policy = read_newer_bundle(client)
    except ClusterError:
        return advice_unread()
    return downgrade_advice(extra, policy)


def advice_unread() -> str:
    """The advice when the cluster's CRD list is not known: every step, the extra CRDs by how to find them."""
    return downgrade_advice([], False) + (" Before the apply, also delete (`kubectl delete crd NAME`) every "
                                         "gateway.networking.k8s.io CRD that `kubectl get crd | grep "
                                         "gateway.networking.k8s.io` lists beyond the five v1.3.0 has: "
                                         + ", ".join(n.split(".")[0] for n in V1_3_CRDS) + ".")
