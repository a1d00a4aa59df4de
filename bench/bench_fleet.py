"""Fleet commands against remote-like clusters: `sandbox serve --clusters 101 --fault api-latency=30ms`.

Real lab clusters are remote: every request waits a network round trip, and that waiting is what
running clusters concurrently must hide. The sandbox's api-latency fault gives every API request
and watch event of the 101 simulated clusters a 30 ms (+-3 ms) round trip; they run in a separate
process, like remote clusters. Every sample, in this order and in the same run:

- prepare of 1 cluster (lab100) to the end of lesson 5 (..httproute, default variants), then of
  30 others (lab001-lab030, --parallel 30). Target: 30 <= 2x 1.
- status of 100 clusters (lab001-lab100; 31 prepared, 69 fresh), in process. Target: <= 5 s.
- reset of 1 cluster, then of the 30 (which also returns them to the start for the next sample).
  Target: 30 <= 2x 1.

Byte code is cached, as in an installed package (this machine sets PYTHONDONTWRITEBYTECODE).
For each it prints the client's CPU per cluster: this process (all threads: the fleet's own work),
and separately the tools it ran (kubectl and the simulated helm, child processes). The simulated
API servers' CPU (the `sandbox serve` process) is printed too: on real clusters it is spent elsewhere.
"""

from __future__ import annotations

import io
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from run import Figure

REPO = Path(__file__).resolve().parents[1]
CLUSTERS = 101
LATENCY = "api-latency=30ms"
TARGET = "..httproute"  # the end of lesson 5
ONE = ["--context", "lab100"]
THIRTY = ["--match", "lab0[0-2]?", "--match", "lab030"]  # lab001-lab030
HUNDRED = ["--match", "lab0??", "--match", "lab100"]  # lab001-lab100


def _serve(tmp: Path) -> tuple[subprocess.Popen, Path]:
    kc = tmp / "kubeconfig"
    env = {**os.environ, "GATEWAY_TUTORIAL_STATE_DIR": str(tmp / "serve-state"), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "tutorial", "sandbox", "serve", "--clusters", str(CLUSTERS),
                             "--kubeconfig-out", str(kc), "--context-name", "lab", "--fault", LATENCY],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "Press Ctrl-C to stop." in line:
            return proc, kc
    raise RuntimeError("sandbox serve did not start")


class Cost:
    """Wall time and CPU of one fleet command run in this process: own threads, child tools, serve."""

    def __init__(self, serve: subprocess.Popen):
        self.serve = serve

    def __enter__(self) -> "Cost":
        self._marks = (time.perf_counter(), time.process_time(), _children(), _serve_cpu(self.serve))
        return self

    def __exit__(self, *exc) -> None:
        wall, own, tools, serve = self._marks
        self.wall = time.perf_counter() - wall
        self.own = time.process_time() - own
        self.tools = _children() - tools
        self.serve_cpu = _serve_cpu(self.serve) - serve


def _children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _serve_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds (user + system) the sandbox serve process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cli(*argv: str) -> None:
    """Run the CLI in this process (imports already warm). Fails loudly."""
    from tutorial.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(buf):
        code = main(list(argv))
    if code != 0:
        raise RuntimeError(f"gateway-tutorial {' '.join(argv)} exited {code}:\n{buf.getvalue()[-3000:]}")


class Series:
    """Samples of one measured command: wall times and CPU per cluster."""

    def __init__(self, name: str, clusters: int):
        self.name, self.clusters = name, clusters
        self.wall, self.own, self.tools, self.serve = [], [], [], []

    def add(self, cost: Cost) -> None:
        self.wall.append(cost.wall)
        self.own.append(cost.own / self.clusters)
        self.tools.append(cost.tools / self.clusters)
        self.serve.append(cost.serve_cpu / self.clusters)

    def floor(self, cores: int) -> list[float]:
        """All the CPU of each sample (fleet process, its tools, the simulated servers) / cores: the
        shortest wall time any schedule could reach on this machine."""
        return [(o + t + s) * self.clusters / cores for o, t, s in zip(self.own, self.tools, self.serve)]

    def cpu_figures(self) -> list[Figure]:
        return [Figure(f"  {self.name}: client CPU per cluster, fleet process", self.own),
                Figure(f"  {self.name}: client CPU per cluster, tools it ran (kubectl, simulated helm)", self.tools),
                Figure(f"  {self.name}: simulated API servers' CPU per cluster (elsewhere on real clusters)",
                       self.serve)]


def _sample(serve, kc_args, s: dict[str, Series]) -> None:
    steps = [("prepare 1", ["prepare", TARGET, *ONE, "--yes"]),
             ("prepare 30", ["prepare", TARGET, *THIRTY, "--yes", "--parallel", "30"]),
             ("status 100", ["status", *HUNDRED]),
             ("reset 1", ["reset", *ONE, "--yes"]),
             ("reset 30", ["reset", *THIRTY, "--yes"])]
    for key, argv in steps:
        with Cost(serve) as cost:
            _cli(*argv, *kc_args)
        s[key].add(cost)


def _cached_byte_code() -> None:
    """Byte code as an installed package has it (pip compiles it at install; bench_first_screen
    does the same). This machine sets PYTHONDONTWRITEBYTECODE: the simulated helm, a new Python
    process ~5 times per cluster, then compiled its modules afresh every time (~30 ms of CPU each)."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(REPO / "tutorial"), quiet=1)


def measure(runs: int) -> list[Figure]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    os.environ["GATEWAY_TUTORIAL_STATE_DIR"] = str(tmp / "state")
    _cached_byte_code()
    serve, kc = _serve(tmp)
    kc_args = ["--kubeconfig", str(kc)]
    series = {k: Series(k, n) for k, n in (("prepare 1", 1), ("prepare 30", 30), ("status 100", 100),
                                            ("reset 1", 1), ("reset 30", 30))}
    try:
        _cli("status", *ONE, *kc_args)  # warm: imports, lessons cache
        for _ in range(max(1, min(runs, 3))):  # each sample prepares 31 clusters: keep it short
            _sample(serve, kc_args, series)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=60)
    s, cores = series, os.cpu_count() or 1
    return [Figure("prepare of 30 clusters to the end of lesson 5", s["prepare 30"].wall,
                   "prepare of 1 cluster", s["prepare 1"].wall, target_ratio=2.0),
            Figure(f"  all CPU of the prepare of 30 / {cores} cores (no schedule here is faster)",
                   s["prepare 30"].floor(cores), "prepare of 1 cluster", s["prepare 1"].wall),
            *s["prepare 1"].cpu_figures(), *s["prepare 30"].cpu_figures(),
            Figure("reset of 30 clusters", s["reset 30"].wall, "reset of 1 cluster", s["reset 1"].wall,
                   target_ratio=2.0),
            Figure(f"  all CPU of the reset of 30 / {cores} cores", s["reset 30"].floor(cores),
                   "reset of 1 cluster", s["reset 1"].wall),
            *s["reset 1"].cpu_figures(), *s["reset 30"].cpu_figures(),
            Figure("status of 100 clusters (in process)", s["status 100"].wall, target_value=5.0),
            *s["status 100"].cpu_figures()]
