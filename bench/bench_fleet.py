"""Fleet commands on `sandbox serve --clusters 31` (a separate process, like remote clusters).

reset: every sample prepares all 31 clusters to the end of the Istio lesson (istioctl path:
Emojivoto, istiod, Istio's CRDs and webhooks, the istio-ingress namespace), then times the reset
of 1 cluster and the reset of the other 30, in the same run. Target: 30 <= 2x 1.
status: the matrix of 30 clusters (every step's checks), in process. Target: <= 3 s.
The same status as a fresh `gateway-tutorial status` process is printed too (no target): it adds
the interpreter's start and imports.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from run import Figure

REPO = Path(__file__).resolve().parents[1]
CLUSTERS = 31
PREPARE = ["prepare", "istio", "--variant", "istio=istioctl", "--all-contexts", "--yes", "--parallel", "8"]
THIRTY = ["--match", "lab0[1-9]", "--match", "lab1*", "--match", "lab2*", "--match", "lab30"]


def _serve(tmp: Path) -> tuple[subprocess.Popen, Path]:
    kc = tmp / "kubeconfig"
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / "serve-state"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", "--clusters", str(CLUSTERS),
                             "--kubeconfig-out", str(kc), "--context-name", "lab"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "Press Ctrl-C to stop." in line:
            return proc, kc
    raise RuntimeError("sandbox serve did not start")


def _cli(*argv: str) -> float:
    """Run the CLI in this process (imports already warm); seconds taken. Fails loudly."""
    from tutorial.cli import main

    buf = io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(buf), redirect_stderr(buf):
        code = main(list(argv))
    took = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"gateway-tutorial {' '.join(argv)} exited {code}:\n{buf.getvalue()[-3000:]}")
    return took


def _fresh_status(kc: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tutorial", "status", "--kubeconfig", str(kc), *THIRTY, "--json"],
                   cwd=REPO, env=env, capture_output=True, check=True, timeout=120)
    return time.perf_counter() - start


def measure(runs: int) -> list[Figure]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    os.environ["GATEWAY_TUTORIAL_STATE_DIR"] = str(tmp / "state")
    proc, kc = _serve(tmp)
    kc_args = ["--kubeconfig", str(kc)]
    one, thirty, status, fresh = [], [], [], []
    try:
        for _ in range(max(1, min(runs, 3))):  # each sample re-prepares 31 clusters: keep it short
            _cli(*PREPARE, *kc_args)
            status.append(_cli("status", *kc_args, *THIRTY))
            fresh.append(_fresh_status(kc, dict(os.environ)))
            one.append(_cli("reset", *kc_args, "--context", "lab31", "--yes"))
            thirty.append(_cli("reset", *kc_args, *THIRTY, "--yes"))
        while len(status) < runs:
            status.append(_cli("status", *kc_args, *THIRTY))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    return [Figure("reset of 30 sandbox clusters", thirty, "reset of 1 cluster", one, target_ratio=2.0),
            Figure("status of 30 sandbox clusters (in process)", status, target_value=3.0),
            Figure("status of 30 sandbox clusters (fresh process, imports included)", fresh)]
