"""Faults switched from inside a cluster: the ConfigMap kube-system/sandbox-faults.

`kubectl -n kube-system create configmap sandbox-faults --from-literal=faults="no-lb image-pull=web"`
switches faults on in that one cluster while it runs (sandbox serve, embedded, tests); editing or
deleting the ConfigMap switches them off again. Faults given at start (--fault) are left alone.
api-unreachable is refused here: it would lock kubectl out of the very ConfigMap that undoes it.
"""

from __future__ import annotations

import re

from tutorial.sandbox.controllers import util as u
from tutorial.sandbox.faults import FaultError, parse_spec
from tutorial.sandbox.controllers.runtime import Controller

NAMESPACE, NAME = "kube-system", "sandbox-faults"


class FaultSwitchController(Controller):
    """Keeps the cluster's FaultSet in line with the sandbox-faults ConfigMap."""

    name = "fault-switch"
    watches = frozenset({u.CONFIGMAPS})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._mine: set[str] = set()  # faults this ConfigMap switched on

    def resync(self) -> None:
        self._apply(self.ctx.store.get(u.CONFIGMAPS, NAMESPACE, NAME))

    def on_event(self, type: str, gr, obj: dict) -> None:
        if (obj["metadata"].get("namespace"), obj["metadata"]["name"]) == (NAMESPACE, NAME):
            self._apply(None if type == "DELETED" else obj)

    def _apply(self, cm: dict | None) -> None:
        text = ((cm or {}).get("data") or {}).get("faults", "")
        wanted, errors = _parse(text)
        mine = set()
        for name, params in wanted.items():
            if name not in self._mine and self.ctx.faults.active(name) is not None:
                continue  # switched on at start (--fault): not this ConfigMap's to switch off
            try:
                self.ctx.faults.enable(name, **params)
                mine.add(name)
            except FaultError as exc:
                errors.append(str(exc))
        for name in self._mine - mine:
            self.ctx.faults.disable(name)
        self._mine = mine
        if cm is not None and errors:
            self.ctx.record_event(cm, "Warning", "InvalidFault", "; ".join(errors), "sandbox")


def _parse(text: str) -> tuple[dict[str, dict], list[str]]:
    """Specs separated by spaces, newlines or semicolons -> ({name: params}, [error messages])."""
    wanted: dict[str, dict] = {}
    errors: list[str] = []
    for spec in (s for s in re.split(r"[\s;]+", text) if s):
        try:
            name, params = parse_spec(spec)
        except FaultError as exc:
            errors.append(str(exc))
            continue
        if name == "api-unreachable":
            errors.append("api-unreachable cannot be switched from inside the cluster (kubectl could "
                          "not switch it off again); use --fault at start")
            continue
        wanted[name] = params
    return wanted, errors
