"""Fuzzing what comes from outside (issue 19): lesson files, progress files and journal ConfigMaps.

Fixed seed, bounded budget (FUZZ_EXAMPLES, default 60 per target; `python bench/fuzz_trust.py`
runs 10,000). Every case: no traceback, every lesson problem with FILE:LINE, and no case over
2 s of CPU or 200 MB (tracemalloc peak). CPU time, not hypothesis' wall-clock deadline: on a
shared machine, and under `nice`, a 100 ms case waited 3.3 s for a core in the 10,000-case run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from lessonfix import ASSETS, VALID
from tutorial.engine.journalcheck import JournalInvalid, check_data
from tutorial.engine.progress import ProgressStore
from tutorial.lessons.loader import check_files

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
BUDGET = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
MAX_BYTES = 200 * 1024 * 1024
MAX_CPU = 2.0  # seconds of this thread's CPU per case, with tracemalloc on (it costs ~15x)
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(VALID.glob("*.yaml"))]
HOSTILE = ["&a [x, x, x, x, x, x, x, x, x, x]", "*a", "[*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
           "[" * 300, "{" * 300, '"\\e[2K\\r"', '"\\u2028"', '"\\u202e"', "\x85", "\t", "!!binary AAAA",
           "!!python/object:os.system", "<<: *a", "? [a]", "%YAML 1.1", "---", "...", "\ufeff", "x" * 5000,
           "'" + "y" * 20_000 + "'"]


@st.composite
def hostile_lesson(draw) -> str:
    lines = draw(st.sampled_from(TEXTS)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        at = draw(st.integers(0, len(lines[i])))
        piece = draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)))
        lines[i] = lines[i][:at] + piece + lines[i][at:]
    if draw(st.booleans()):  # a whole bomb of aliases under a new key
        width = draw(st.integers(2, 12))
        bomb = ["x_bomb:", "  l0: &l0 [" + ", ".join(["v"] * width) + "]"]
        bomb += [f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]" for k in range(1, 9)]
        lines += bomb
    return "\n".join(lines)


def _bounded(fn):
    tracemalloc.start()
    cpu = time.thread_time()
    try:
        return fn()
    finally:
        used = time.thread_time() - cpu
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MAX_BYTES, f"peak {peak / 2**20:.0f} MB"
        assert used < MAX_CPU, f"{used:.1f} s of CPU"


@BUDGET
@seed(19)
@given(hostile_lesson())
def test_lesson_files(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "10-fuzz.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        _, problems = _bounded(lambda: check_files([path], ASSETS))
        for p in problems:
            assert p.file == str(path) and p.line >= 1, p
            assert str(p).startswith(f"{path}:{p.line}:") and "\n" not in str(p) and "\u2028" not in str(p)


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                       max_leaves=20)


@st.composite
def progress_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["json", "shape", "bytes", "deep", "utf16"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        return b"[" * draw(st.integers(100, 100_000)) + b"]" * draw(st.integers(0, 10))
    doc = {"format": draw(st.sampled_from([1, 1, "1", 2, None])),
           "steps": draw(st.one_of(st.dictionaries(st.sampled_from(["a/b", "x", "a/b/c", ""]),
                                                   st.one_of(JSONISH, st.fixed_dictionaries(
                                                       {"state": st.sampled_from(["done", "todo", "odd"])})),
                                                   max_size=3), JSONISH)),
           "variants": draw(st.one_of(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2), JSONISH)),
           "current": draw(JSONISH)}
    text = json.dumps(doc if kind == "json" else draw(JSONISH))
    return text.encode("utf-16" if kind == "utf16" else "utf-8")


@BUDGET
@seed(19)
@given(progress_bytes())
def test_progress_files(raw):
    with tempfile.TemporaryDirectory() as tmp:
        first = ProgressStore.for_cluster("c", "s", state_dir=tmp)
        first.path.write_bytes(raw)
        store = _bounded(lambda: ProgressStore.for_cluster("c", "s", state_dir=tmp))
        records = store.all()
        if store.warning:
            assert str(store.path) in store.warning and "moved to" in store.warning and records == {}
        store.set("a/b", "done")
        assert store.get("a/b").state == "done"


ENTRY = st.fixed_dictionaries({"target": st.sampled_from(["emojivoto/namespace", "x/y", "", 3]),
                               "seq": st.one_of(st.integers(), st.text(max_size=3)),
                               "created": st.one_of(st.lists(st.one_of(JSONISH, st.fixed_dictionaries({
                                   "api_version": st.sampled_from(["v1", 1]), "kind": st.sampled_from(["Namespace", "ConfigMap"]),
                                   "name": st.text(max_size=6), "namespace": st.sampled_from(["kube-system", "default", "x", None]),
                                   "uid": st.one_of(st.none(), st.text(max_size=4))})), max_size=3), JSONISH),
                               "releases": st.one_of(st.lists(JSONISH, max_size=2), JSONISH),
                               "kept": st.one_of(st.lists(JSONISH, max_size=2), JSONISH)})


@st.composite
def journal_data(draw) -> object:
    data = {"format": draw(st.sampled_from(["1", "1", "2", 1, None]))}
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(["step.emojivoto.namespace", "step.x.y", "baseline", "other", "step."]))
        value = draw(st.one_of(ENTRY.map(json.dumps), JSONISH.map(json.dumps), st.text(max_size=20),
                               st.integers(1, 5000).map(lambda n: "[" * n + "]" * n)))
        data[key] = value
    return draw(st.one_of(st.just(data), JSONISH))


@BUDGET
@seed(19)
@given(journal_data())
def test_journal_configmaps(data):
    from tutorial.engine.journal import StepEntry
    from tutorial.instructor.reset import build_plan

    try:
        checked, baseline = _bounded(lambda: check_data(data))
    except JournalInvalid as exc:
        assert exc.key and exc.problem
        return
    entries = {doc["target"]: StepEntry.from_doc(doc) for doc in checked.values()}
    plan = build_plan(entries, None, baseline)
    assert len(plan.steps) == len(entries)
