"""`status`: where every lab cluster is, from live checks (not from anyone's progress file).

Each step's checks are evaluated once, without waiting (timeout 0: one list per check), so a
whole fleet answers in about the time of its slowest cluster. Checks that run a command on this
machine (`command_succeeds`, e.g. "kubectl is installed") say nothing about a learner's cluster
and are left out; a step with only such checks shows "n/a".
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOCAL_KINDS = {"command_succeeds"}
# Checks of one cluster evaluated at a time. A status is bound by this machine's CPU, not by
# waiting: 32 clusters at once already keep 32 requests in flight. The checks of one cluster share
# one list per kind and namespace (ClusterClient.shared_reads), ~11 requests in all, and each
# concurrent check costs a TLS connection of its own (~1.7 ms of CPU here, as much on the server).
# Measured, status of 11 clusters at 30 ms latency, alternating runs on a loaded machine: one at a
# time opened 1 connection per cluster instead of 3 and used ~15% less CPU, in the same wall time.
STATUS_CHECK_WORKERS = 1


@dataclass
class StepCell:
    target: str
    state: str  # done, partial, todo, unknown (cluster did not answer), n/a
    checks: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"target": self.target, "state": self.state,
                "checks": [{"check": c.check_id, "title": c.title, "passed": c.passed, "observed": c.observed}
                           for c in self.checks]}


@dataclass
class ClusterStatus:
    context: str
    server: str
    reachable: bool
    error: str = ""
    sandbox: bool = False
    cells: list[StepCell] = field(default_factory=list)

    @property
    def at(self) -> str:
        """The last step of the unbroken run of done steps from the start ('' if none)."""
        last = ""
        for cell in self.cells:
            if cell.state == "n/a":
                continue
            if cell.state != "done":
                break
            last = cell.target
        return last

    @property
    def stuck_on(self) -> str:
        """The first step that is partly done: a learner is probably working (or stuck) there."""
        return next((c.target for c in self.cells if c.state == "partial"), "")

    def to_json(self) -> dict:
        return {"context": self.context, "server": self.server, "reachable": self.reachable, "error": self.error,
                "sandbox": self.sandbox, "at": self.at or None, "stuck_on": self.stuck_on or None,
                "steps": [c.to_json() for c in self.cells]}


def status_steps(lessons):
    """The matrix columns: every step of every variant, in tutorial order. Challenges (lesson 7) are
    left out: their checks hold on any working lab, so the cluster cannot tell whether one was done.

    Called once, in the calling thread, before the clusters' threads start: it also loads the
    data every cluster's checks read (settled states, explain_rules/terminal.yaml: ~35 ms of YAML),
    which thirty threads asking for it at once would each parse.
    """
    from tutorial.engine.terminal import terminal_data

    terminal_data()
    return [(lesson, step) for lesson in lessons.lessons for step in lesson.steps if step.breaks is None]


def cluster_status(run, pairs) -> ClusterStatus:
    """Evaluate, all at once, the cluster checks of the steps on this cluster's path.

    The path follows the variants remembered for the cluster (prepare --variant, or the TUI's
    choice on this machine), else the lessons' defaults; other variants' steps show n/a.
    """
    c = run.cluster
    out = ClusterStatus(c.context, c.server, True, sandbox=run.sandbox)
    path = {step.target for _, step in _path(run.engine)}
    checks = [(step, chk) for _, step in pairs if step.target in path
              for chk in step.checks if chk.kind not in LOCAL_KINDS]
    with run.engine.client.shared_reads():  # one list per kind and namespace answers all the checks
        results = run.engine.run_checks(checks, timeout=0, cancel=run.cancel, workers=STATUS_CHECK_WORKERS)
    by_step: dict[str, list] = {}
    for (step, _), result in zip(checks, results):
        by_step.setdefault(step.target, []).append(result)
    for _, step in pairs:
        out.cells.append(_cell(step.target, by_step.get(step.target, [])))
    if any(cell.state == "unknown" for cell in out.cells):
        out.reachable = False
        out.error = next(r.observed for cell in out.cells for r in cell.checks if r.unreachable)
        run.state, run.detail = "unreachable", out.error
    return out


def _path(engine):
    """engine.steps("all") with one read of the progress file (Engine.variants reads it once per lesson)."""
    remembered = engine.progress.variants() if engine.progress is not None else {}
    lessons = {lesson.id for lesson in engine.lessons.lessons}
    chosen = {lesson: variant for lesson, variant in remembered.items() if lesson in lessons and variant}
    return engine.lessons.resolve_target("all", variants=chosen)


def _cell(target: str, results: list) -> StepCell:
    if not results:
        return StepCell(target, "n/a")
    if any(r.unreachable for r in results):
        return StepCell(target, "unknown", results)
    passed = sum(1 for r in results if r.passed)
    state = "done" if passed == len(results) else ("partial" if passed else "todo")
    return StepCell(target, state, results)


def unreachable_status(run, pairs) -> ClusterStatus:
    c = run.cluster
    return ClusterStatus(c.context, c.server, False, error=run.detail,
                         cells=[StepCell(step.target, "unknown") for _, step in pairs])
