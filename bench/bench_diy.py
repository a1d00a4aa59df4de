"""Do-it-yourself latency: from the moment the learner presses Enter on their own command to the
moment the watching step reports pass (tutorial.engine.diy.watch_step, no key pressed),
against real `kubectl wait` started at the same time on the same change. Target: median <= 1 s
("within about a second"), ratio printed against kubectl wait.

Each run uses a fresh sandbox and the bundled lesson step emojivoto/namespace; the learner's
command is `kubectl create namespace emojivoto` run by a real kubectl in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from run import Figure


def _one(tmp: Path) -> tuple[float, float]:
    from tutorial.engine.diy import watch_step
    from tutorial.engine.progress import ProgressStore
    from tutorial.engine.session import Engine
    from tutorial.engine.target import ClusterTarget
    from tutorial.lessons import load_lessons
    from tutorial.paths import assets_dir, lessons_dir
    from tutorial.sandbox.cluster import SandboxCluster

    cluster = SandboxCluster(name="bench").start()
    try:
        kc = cluster.write_kubeconfig(tmp / "kubeconfig", context="bench")
        env = {**os.environ, "KUBECONFIG": str(kc), "HOME": str(tmp)}
        target = ClusterTarget(context="bench", server=cluster.url, kubeconfig=str(kc), sandbox=True)
        engine = Engine(load_lessons(lessons_dir(), assets_dir()), target,
                        ProgressStore.for_cluster("bench", cluster.url, state_dir=tmp / "state"))
        step = engine.lessons.step("emojivoto/namespace")
        cancel, ended = threading.Event(), {}

        def watch():
            watch_step(engine, step, cancel)
            ended["diy"] = time.perf_counter()

        watcher = threading.Thread(target=watch)
        watcher.start()
        waiter = subprocess.Popen(["kubectl", "wait", "--for=jsonpath={.status.phase}=Active", "namespace/emojivoto",
                                   "--timeout=30s"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)  # both are watching before the learner types
        changed = time.perf_counter()  # the learner presses Enter
        subprocess.run(["kubectl", "create", "namespace", "emojivoto"], env=env, check=True, capture_output=True)
        waiter.wait(30)
        kubectl_done = time.perf_counter()
        watcher.join(30)
        cancel.set()
        engine.close()
        return ended["diy"] - changed, kubectl_done - changed
    finally:
        cluster.stop()


def measure(runs: int) -> list[Figure]:
    ours, base = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            a, b = _one(Path(tmp))
        ours.append(a)
        base.append(b)
    return [Figure("do-it-yourself step passes after the learner's command", ours,
                   "kubectl wait on the same change", base, target_value=1.0)]
