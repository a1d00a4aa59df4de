"""What durable acknowledgement costs a sandbox write: the store with its append-only write log
under each fsync policy ("write": one write(2) per record, fsync per snapshot — survives SIGKILL;
"always": fsync per record — survives power loss), against the same writes with no persistence,
in the same run. Per-write time, 500 ConfigMap creates per sample."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from run import Figure

WRITES = 500


def _sample(policy: str | None) -> float:
    from tutorial.sandbox.storage import persist
    from tutorial.sandbox.storage.store import Store

    store = Store()
    persister = None
    if policy is not None:
        persister = persist.Persister(store, Path(tempfile.mkdtemp(prefix="bench-durable-")) / "state.json")
        persister.log.policy = policy
        persister.load()
        persister.start()
    start = time.perf_counter()
    for i in range(WRITES):
        store.create(("", "configmaps"), {"metadata": {"name": f"c{i}", "namespace": "default"}, "data": {"i": str(i)}})
    took = (time.perf_counter() - start) / WRITES
    if persister is not None:
        persister.stop()
    return took


def measure(runs: int) -> list[Figure]:
    base = [_sample(None) for _ in range(runs)]
    write = [_sample("write") for _ in range(runs)]
    always = [_sample("always") for _ in range(runs)]
    return [Figure("sandbox write, log policy 'write' (default)", write, "no persistence", base),
            Figure("sandbox write, log policy 'always' (fsync each)", always, "no persistence", base)]
