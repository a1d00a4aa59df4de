"""doctor: Gateways whose listener ports another program on this machine holds (the sandbox says so).

The sandbox's Programmed condition names the program ("...; nginx (pid 4242) holds that port");
doctor lifts that into a finding, because the learner's curl to that address and port reaches
the other program, not the Gateway.
"""

from __future__ import annotations

import re

from tutorial.cluster.client import ClusterClient, ClusterError

HELD = re.compile(r"cannot listen on (?P<address>[0-9.]+):(?P<port>\d+): [^;]*; (?P<holder>.+?) holds that port")


def held_port_findings(client: ClusterClient) -> list:
    """One warning per Gateway whose Programmed condition says another program holds a port."""
    from tutorial.engine.preflight import Finding

    try:
        gateways = client.list(client.resource("gateway.networking.k8s.io/v1", "Gateway"))[0]
    except ClusterError:
        return []  # no Gateway API on this cluster: nothing to say
    out = []
    for gw in gateways:
        for cond in (gw.get("status") or {}).get("conditions") or []:
            match = HELD.search(cond.get("message", "")) if cond.get("type") == "Programmed" else None
            if match is None or cond.get("status") != "False":
                continue
            meta = gw.get("metadata") or {}
            where = f"{match['address']}:{match['port']}"
            out.append(Finding(
                "gateway.port-held", "warn", "Gateway ports",
                f"Gateway {meta.get('namespace')}/{meta.get('name')}: {where} is held by {match['holder']}",
                f"Requests to {where} reach {match['holder']}, not this Gateway.",
                f"Stop {match['holder']}, or give the listener another port; the sandbox retries by itself."))
    return out
