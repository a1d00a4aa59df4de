"""Fleet commands on `sandbox serve --clusters 31` (a separate process, like remote clusters).

reset: every sample prepares all 31 clusters to the end of the Istio lesson (istioctl path:
Emojivoto, istiod, Istio's CRDs and webhooks, the istio-ingress namespace), then times the reset
of 1 cluster and the reset of the other 30, in the same run. Target: 30 <= 2x 1.
status: the matrix of 30 clusters (every step's checks), in process. Target: <= 3 s.
The same status as a fresh `gateway-tutorial status` process is printed too (no target): it adds
the interpreter's start and imports.

Also printed, to read the reset ratio by: the same 30 resets one cluster at a time
(`--parallel 1`), and the CPU the reset of 30 costs on this machine: this process plus the
`sandbox serve` process that simulates all 31 API servers and their controllers. Divided by the
machine's cores it is the shortest wall time any schedule could reach here; its ratio to the
reset of 1 is the best ratio this machine allows (real lab clusters do their side elsewhere).
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
PREPARE = ["prepare", "istio", "--variant", "istio=istioctl", "--yes", "--parallel", "8"]
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


def _serve_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) the sandbox serve process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    one, thirty, status, fresh, sequential, floor = [], [], [], [], [], []
    cores = os.cpu_count() or 1
    try:
        for _ in range(max(1, min(runs, 3))):  # each sample re-prepares 31 clusters: keep it short
            _cli(*PREPARE, "--all-contexts", *kc_args)
            status.append(_cli("status", *kc_args, *THIRTY))
            fresh.append(_fresh_status(kc, dict(os.environ)))
            one.append(_cli("reset", *kc_args, "--context", "lab31", "--yes"))
            cpu = time.process_time(), _serve_cpu(proc)
            thirty.append(_cli("reset", *kc_args, *THIRTY, "--yes"))
            floor.append((time.process_time() - cpu[0] + _serve_cpu(proc) - cpu[1]) / cores)
            _cli(*PREPARE, "--match", "lab[0-2]*", "--match", "lab30", *kc_args)
            sequential.append(_cli("reset", *kc_args, *THIRTY, "--yes", "--parallel", "1"))
        while len(status) < runs:
            status.append(_cli("status", *kc_args, *THIRTY))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    return [Figure("reset of 30 sandbox clusters", thirty, "reset of 1 cluster", one, target_ratio=2.0),
            Figure("reset of 30 sandbox clusters", thirty, "the same 30 one at a time (--parallel 1)", sequential),
            Figure(f"CPU of the reset of 30 (client + sandbox serve) / {cores} cores", floor,
                   "reset of 1 cluster", one),
            Figure("status of 30 sandbox clusters (in process)", status, target_value=3.0),
            Figure("status of 30 sandbox clusters (fresh process, imports included)", fresh)]
