"""`reset [TARGET]`: undo what the tutorial created on a cluster, as its journal records it.

Only objects and Helm releases the journal says the tutorial created are deleted, each only if
it is still the very object the tutorial made (same uid: a delete precondition, so the API
server itself refuses to delete a look-alike) and carries the tutorial's ownership annotation.
The journal is outside input (journalcheck.py): never the cluster's own namespaces, never a
namespace or CRD from its baseline; what is refused is listed with why, as is what is kept.
Steps are undone newest first; within them: Helm releases (as `helm uninstall` does: the
release's objects, then its records), objects, cluster-scoped objects, namespaces, CRDs.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tutorial.instructor.kubeapi import Kube, ObjRef

PHASES = {"HelmRelease": 0, "Namespace": 3, "CustomResourceDefinition": 4}
KEEP_POLICY = "helm.sh/resource-policy"
WAIT_GONE = 120.0
# Requests of one cluster's reset sent at once where their order does not matter (the lists that
# inspect the cluster; the deletions of one phase). Each is a round trip to a possibly remote API
# server: one at a time, a workshop reset waited ~30 of them per cluster back to back.
RESET_WORKERS = 4


@dataclass
class Action:
    """One deletion: a Helm release, an object, or a namespace with everything in it."""

    ref: ObjRef
    step: str
    uid: str | None = None
    status: str = "planned"  # planned, present, gone, replaced; after running: deleted, gone, replaced, failed
    contents: list[str] = field(default_factory=list)  # a Helm release: what its uninstall deletes (inspect)

    @property
    def phase(self) -> int:
        if self.ref.kind in PHASES:
            return PHASES[self.ref.kind]
        return 1 if self.ref.namespace else 2

    @property
    def how(self) -> str:
        if self.ref.kind == "HelmRelease":
            return f"Helm release {self.ref.name} in {self.ref.namespace} (helm uninstall {self.ref.name} -n {self.ref.namespace})"
        if self.ref.kind == "Namespace":
            return f"Namespace {self.ref.name} and everything in it"
        return str(self.ref)


@dataclass
class Plan:
    steps: list[str] = field(default_factory=list)       # undone, newest first
    actions: list[Action] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (what, why): the journal asked, reset said no
    baseline: dict | None = None  # what existed before the tutorial's first step
    records: dict = field(default_factory=dict, repr=False)  # (namespace, release) -> its Helm records, read once

    @property
    def empty(self) -> bool:
        return not self.steps


def scope_targets(lessons, target: str) -> list[str] | None:
    """Step targets from TARGET to the end of the tutorial (every variant); None for 'all'."""
    from tutorial.lessons.models import TargetError

    if target in ("all", ""):
        return None
    ordered = [s.target for lesson in lessons.lessons for s in lesson.steps]
    lesson_id, _, step_id = target.partition("/")
    first = target if step_id else next((t for t in ordered if t.split("/", 1)[0] == lesson_id), None)
    if first not in ordered:
        lessons.step(target) if step_id else lessons.lesson(lesson_id)  # raises with the valid names
        raise TargetError(f"{target!r} has no steps")
    return ordered[ordered.index(first):]


def build_plan(entries: dict, scope: list[str] | None, baseline: dict | None = None) -> Plan:
    """Deletions for the journal entries in scope, newest step first, in phase order."""
    chosen = sorted((e for t, e in entries.items() if scope is None or t in scope), key=lambda e: -e.seq)
    plan = Plan(steps=[e.target for e in chosen], baseline=baseline)
    dying_ns = {c["name"] for e in chosen for c in e.created if c["kind"] == "Namespace"}
    for entry in chosen:
        for rel in entry.releases:
            plan.actions.append(Action(ObjRef("helm", "HelmRelease", rel["namespace"], rel["name"]), entry.target))
        for c in entry.created:
            ref = ObjRef.from_dict(c)
            if ref.namespace in dying_ns:
                continue  # deleted with its namespace
            plan.actions.append(Action(ref, entry.target, c.get("uid") or None))
        for k in entry.kept:
            plan.kept.append((str(ObjRef.from_dict(k)), k.get("why", "it existed before the tutorial")))
    plan.actions.sort(key=lambda a: a.phase)  # stable: newest step first within a phase
    plan.kept = list(dict.fromkeys(plan.kept))
    return plan


def inspect(kube: Kube, plan: Plan) -> None:
    """Look at the cluster: which planned deletions still apply (present / gone / replaced /
    refused). Every reset looks first: the annotation and baseline tests need the live object.

    One metadata list per kind and namespace, not one read per object: a reset of a whole
    workshop must stay cheap for the API servers and for this machine.
    """
    live = _live_meta(kube, [a.ref for a in plan.actions if a.ref.kind != "HelmRelease"])
    kept = {what for what, _ in plan.kept}
    helm = [a.ref for a in plan.actions if a.ref.kind == "HelmRelease"]
    releases = _live_releases(kube) if helm else set()
    _each(lambda ref: release_secrets(kube, ref, plan), helm)  # each release's records, read together
    for action in plan.actions:
        _vet(kube, plan, action, live, kept)
    dying = {a.ref.name for a in plan.actions if a.ref.kind == "Namespace" and a.status == "present"}
    planned = {kube.key(a.ref) for a in plan.actions if a.ref.kind != "HelmRelease"}
    for action in plan.actions:
        ref = action.ref
        if action.status == "refused":
            continue
        if ref.kind == "HelmRelease":
            action.status = "present" if (ref.namespace, ref.name) in releases else "gone"
            if action.status == "present":
                _, deletes, kept = helm_plan(kube, ref, plan, dying)
                action.contents = [str(r) for r in deletes if kube.key(r) not in planned]  # others have their own line
                plan.kept.extend(kept)
            continue
        uid = (live.get((ref.kind, ref.namespace, ref.name)) or (None, None))[0]
        if uid is None:
            action.status = "gone"
        elif action.uid and uid != action.uid:
            action.status = "replaced"
            _keep_replaced(plan, ref)
        else:
            action.status = "present"


def _vet(kube: Kube, plan: Plan, action: Action, live: dict, kept: set) -> None:
    """Mark the action refused (with why) when the journal asks for what reset must not delete."""
    from tutorial.engine.journalcheck import OWNER_ANNOTATION, PROTECTED_NAMESPACES, refusal

    ref = action.ref
    if ref.kind == "HelmRelease":
        why = None
        if ref.namespace in PROTECTED_NAMESPACES:
            why = f"it is in {ref.namespace}, which belongs to the cluster; reset never deletes there"
        elif not any(OWNER_ANNOTATION in (s["metadata"].get("annotations") or {})
                     for s in release_secrets(kube, ref, plan)):
            why = "its release records lack the tutorial's annotation, so the tutorial did not install it"
            if not release_secrets(kube, ref, plan):
                return  # gone: nothing to refuse
    else:
        uid, annotations = live.get((ref.kind, ref.namespace, ref.name)) or (None, None)
        why = refusal(ref, action.uid, uid, annotations, plan.baseline)
        if not why and uid is not None and str(ref) in kept:
            why = "the journal also lists it as kept (it existed before the tutorial)"
    if why:
        action.status = "refused"
        plan.refused.append((action.how, why))


def _keep_replaced(plan: Plan, ref: ObjRef) -> None:
    plan.kept.append((str(ref), "it was deleted and made again since the tutorial created it "
                                "(different uid), so it is not the tutorial's any more"))


def _live_meta(kube: Kube, refs: list[ObjRef]) -> dict[tuple, tuple[str, dict]]:
    """(kind, namespace, name) -> (uid, annotations) of the live objects, one list per kind/namespace."""
    groups = sorted({(r.api_version, r.kind, r.namespace) for r in refs}, key=str)
    live = {}
    for listed in _each(lambda group: kube.list_meta(*group), groups):
        for seen in listed:
            live[(seen.ref.kind, seen.ref.namespace, seen.ref.name)] = (seen.uid, seen.annotations)
    return live


def _each(call, items: list) -> list:
    """[call(item) for item in items], up to RESET_WORKERS at once; results in the items' order,
    the first exception raised as it would be one at a time."""
    if len(items) < 2:
        return [call(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(RESET_WORKERS, len(items)), thread_name_prefix="reset") as pool:
        return list(pool.map(call, items))


def _live_releases(kube: Kube) -> set[tuple[str, str]]:
    return {(s.ref.namespace, s.labels.get("name")) for s in kube.list_meta("v1", "Secret", None, label_selector="owner=helm")
            if s.labels.get("status") != "uninstalled"}


def execute(kube: Kube, plan: Plan, cancel=None) -> None:
    """Delete what the plan lists (after `inspect`: what it found present); statuses become
    deleted, gone or replaced, straight from the API server's answers: a delete carries the uid
    the journal recorded as a precondition, so a look-alike is refused (409), a missing object
    is a 404.

    Objects inside a namespace the plan deletes are left to the namespace; objects a Helm
    uninstall already removed are not deleted twice.
    """
    todo = ("planned", "present")
    dying = {a.ref.name for a in plan.actions if a.ref.kind == "Namespace" and a.status in todo}
    done: set[str] = set()
    for phase in sorted({a.phase for a in plan.actions}):
        if cancel is not None and cancel.is_set():
            return
        actions = [a for a in plan.actions if a.phase == phase and a.status in todo]
        if phase == PHASES["HelmRelease"]:  # one release after the other, newest first, as a person would
            for action in actions:
                if cancel is not None and cancel.is_set():
                    return
                action.status = helm_uninstall(kube, action.ref, plan, dying, done)
            continue
        for action in actions:
            if action.ref.key in done:
                action.status = "deleted"
        # The phase's own deletions are independent of each other: sent together, each with its uid.
        actions = [a for a in actions if a.status in todo]
        statuses = _each(lambda a: "cancelled" if cancel is not None and cancel.is_set() else
                         kube.delete(a.ref, a.uid), actions)
        for action, status in zip(actions, statuses):
            if status == "cancelled":
                continue
            action.status = status
            if status == "replaced":
                _keep_replaced(plan, action.ref)


def release_secrets(kube: Kube, rel: ObjRef, plan: Plan | None = None) -> list[dict]:
    """Helm's release records (Secrets owner=helm,name=NAME) of a release, full objects; read once
    per plan (inspect vets them, plans the uninstall, and execute carries it out)."""
    if plan is not None and (rel.namespace, rel.name) in plan.records:
        return plan.records[(rel.namespace, rel.name)]
    records = _read_release_secrets(kube, rel)
    if plan is not None:
        plan.records[(rel.namespace, rel.name)] = records
    return records


def _read_release_secrets(kube: Kube, rel: ObjRef) -> list[dict]:
    status, doc = kube.request("GET", f"/api/v1/namespaces/{rel.namespace}/secrets",
                               query=[("labelSelector", f"owner=helm,name={rel.name}")])
    if status == 404:
        return []
    kube.raise_for(status, doc, f"list the records of Helm release {rel.name}")
    return [s for s in doc.get("items", []) if s.get("type", "helm.sh/release.v1") == "helm.sh/release.v1"]


def helm_plan(kube: Kube, rel: ObjRef, plan: Plan, dying: set[str]):
    """What `helm uninstall` of rel would do (without chart hooks): (its release records, the
    manifest's objects to delete in uninstall order, what it keeps and why).

    Objects in a namespace being deleted (`dying`) go with it. An object the chart marks
    `helm.sh/resource-policy: keep` is kept by the uninstall, unless the journal says the
    tutorial created it: then its own planned deletion removes it later (no "kept" line).
    """
    from tutorial.engine.journalcheck import PROTECTED_NAMESPACES

    secrets = release_secrets(kube, rel, plan)
    if not secrets:
        return [], [], []
    planned = {kube.key(a.ref) for a in plan.actions if a.ref.kind != "HelmRelease"}
    latest = max(secrets, key=lambda s: int((s["metadata"].get("labels") or {}).get("version", "0") or 0))
    deletes, kept = [], []
    for obj in reversed(manifest_objects(latest)):
        meta = obj.get("metadata") or {}
        ref = ObjRef(obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace") or rel.namespace,
                     meta.get("name", ""))
        if (ref.namespace if kube.namespaced(ref) else None) in PROTECTED_NAMESPACES or \
                (ref.kind == "Namespace" and ref.name in PROTECTED_NAMESPACES):
            kept.append((str(ref), "the cluster's own namespaces are never touched by reset"))
        elif (meta.get("annotations") or {}).get(KEEP_POLICY) == "keep":
            if kube.key(ref) not in planned:
                kept.append((str(ref), f"Helm release {rel.name} marks it {KEEP_POLICY}: keep"))
        elif ref.namespace not in dying or not kube.namespaced(ref):
            deletes.append(ref if kube.namespaced(ref) else ObjRef(ref.api_version, ref.kind, None, ref.name))
    return secrets, deletes, kept


def helm_uninstall(kube: Kube, rel: ObjRef, plan: Plan, dying: set[str], done: set[str]) -> str:
    """Carry out helm_plan: delete the manifest's objects, then the release records (unless
    their namespace is being deleted). Deleted keys join `done`."""
    secrets, deletes, kept = helm_plan(kube, rel, plan, dying)
    if not secrets:
        return "gone"
    plan.kept.extend(kept)
    _each(kube.delete, deletes)  # the release's objects at once (a chart's CRDs: some twenty)
    done.update(kube.key(ref) for ref in deletes)
    if rel.namespace not in dying:
        for secret in secrets:
            kube.delete(ObjRef("v1", "Secret", rel.namespace, secret["metadata"]["name"]))
    return "deleted"


def manifest_objects(secret: dict) -> list[dict]:
    """The objects of a Helm release record: base64(base64(gzip(JSON))), manifest as YAML.

    Read-only: the manifest is parsed once per text (the same chart on every lab cluster), which
    was most of a reset's client CPU (pure-Python YAML, ~50 ms per release)."""
    import base64
    import gzip
    import json

    from tutorial.instructor.stepscope import yaml_documents

    packed = base64.b64decode(base64.b64decode((secret.get("data") or {}).get("release", "")))
    release = json.loads(gzip.decompress(packed) if packed[:2] == b"\x1f\x8b" else packed)
    return [d for d in yaml_documents(release.get("manifest") or "") if isinstance(d, dict) and d.get("kind")]


def wait_gone(client, plan: Plan, cancel=None, timeout: float = WAIT_GONE) -> list[str]:
    """Wait (watching) until deleted namespaces and CRDs have disappeared; what is still there.

    client is the reset's own (journal.kube_for) client: a watch that ends early closes its
    connection rather than returning it half-read to that pool.
    """
    def gone(kind_version) -> list[str]:
        kind, api_version = kind_version
        names = {a.ref.name for a in plan.actions if a.ref.kind == kind and a.status == "deleted"}
        ref = client.resource(api_version, kind)
        outcome = client.wait_for(ref, None, lambda items: not any(o["metadata"]["name"] in names for o in items),
                                  timeout=timeout, cancel=cancel)
        return [] if outcome.passed else [f"{kind} {o['metadata']['name']}" for o in outcome.items
                                          if o["metadata"]["name"] in names]

    kinds = [(kind, api_version) for kind, api_version in (("Namespace", "v1"),
                                                           ("CustomResourceDefinition", "apiextensions.k8s.io/v1"))
             if any(a.ref.kind == kind and a.status == "deleted" for a in plan.actions)]
    return [what for left in _each(gone, kinds) for what in left]  # both waits at once


def reset_cluster(run, target: str, *, dry_run: bool) -> Plan:
    """Plan (and unless dry_run, carry out) the reset of one cluster; updates journal and progress."""
    from tutorial.engine import journal

    engine = run.engine
    kube = journal.kube_for(engine)
    scope = scope_targets(engine.lessons, target)
    book = journal.Journal(kube)
    read = book.read()
    plan = build_plan(read[0], scope, book.baseline(read[1]))
    if not plan.empty:
        inspect(kube, plan)
    if dry_run or plan.empty:
        run.detail = _summary(plan, dry_run)
        return plan
    execute(kube, plan, run.cancel)
    if run.cancel.is_set():
        run.detail = "interrupted; run reset again to finish"
        return plan
    left = wait_gone(kube.client, plan, run.cancel)
    undone = set(plan.steps)
    book.update(lambda e: {t: v for t, v in e.items() if t not in undone}, first=read)
    engine.progress.reset(scope)  # None: every step of this cluster
    if left:
        run.state, run.detail = "failed", f"still being deleted: {', '.join(left)}"
    else:
        run.detail = _summary(plan, dry_run)
    return plan


def _summary(plan: Plan, dry_run: bool) -> str:
    if plan.empty:
        return "nothing to reset: the journal lists nothing the tutorial created here"
    live = [a for a in plan.actions if a.status in ("present", "deleted")]
    verb, undo = ("would delete", "would undo") if dry_run else ("deleted", "undid")
    refused = f", refused {len(plan.refused)} (see --dry-run)" if plan.refused else ""
    return f"{verb} {len(live)}, kept {len(plan.kept)}{refused} ({undo} {len(plan.steps)} step(s))"


@dataclass
class _OneCluster:
    """What reset_cluster needs of a fleet run, for the learner's own cluster."""

    engine: object
    cancel: threading.Event
    state: str = "ok"
    detail: str = ""


def undo_from(engine, target: str, *, dry_run: bool, cancel: threading.Event | None = None):
    """Undo TARGET and every step after it on the engine's cluster, from its journal.

    Returns (plan, detail, ok). With dry_run nothing changes: the plan says what would go.
    """
    run = _OneCluster(engine, cancel or threading.Event())
    plan = reset_cluster(run, target, dry_run=dry_run)
    return plan, run.detail, run.state == "ok"


def plan_lines(plan: Plan) -> list[str]:
    """What a reset deletes and what it keeps (and why), one line each, for a person to read."""
    lines = []
    for a in plan.actions:
        if a.status in ("present", "planned"):
            lines.append(f"delete  {a.how}")
            lines += [f"          with {what}" for what in a.contents]
    lines += [f"keep    {what} ({why})" for what, why in plan.kept]
    lines += [f"refuse  {what} ({why})" for what, why in plan.refused]
    return lines or ["nothing to delete: the cluster's journal lists nothing the tutorial created from this "
                     "step on. Reset only marks the step as not done."]
