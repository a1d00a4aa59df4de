"""Every unreadable progress file is moved aside with a message naming both paths, and the learner
starts fresh — from every command (issue 19; the TUI: tests/ui/test_progress_unreadable.py)."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout

import pytest

from progress_forms import FORMS, aside as _aside, plant as _plant
from sandbox_engine import require_kubectl
from tutorial.engine.progress import ProgressStore, check_variants
from tutorial.engine.target import SANDBOX_IDENTITY
from tutorial.lessons import load_lessons
from tutorial.paths import assets_dir, lessons_dir


def _sandbox_progress(state) -> ProgressStore:
    return ProgressStore.for_cluster("sandbox", SANDBOX_IDENTITY, state_dir=state)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_the_store_moves_every_form_aside(tmp_path, form):
    path = tmp_path / "progress" / "x.json"
    store = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    _plant(store.path, form)
    store = ProgressStore.for_cluster("c", "s", state_dir=tmp_path)
    check_variants(store, load_lessons(lessons_dir(), assets_dir()))
    assert store.warning, form
    (aside,) = _aside(store.path)
    assert str(store.path) in store.warning and str(aside) in store.warning
    assert store.all() == {} and path.parent.is_dir()
    store.set("a/b", "done")
    assert ProgressStore.for_cluster("c", "s", state_dir=tmp_path).get("a/b").state == "done"


def _main(*argv) -> tuple[int, str]:
    from tutorial.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(buf):
        code = main(list(argv))
    return code, buf.getvalue()


COMMANDS = [("lessons", "--sandbox"), ("check", "before-you-start/tools", "--sandbox"),
            ("run", "before-you-start/tools", "--yes", "--sandbox"),
            ("explain", "before-you-start/tools", "--sandbox")]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_command_says_so_and_starts_fresh(tmp_path, monkeypatch, form):
    require_kubectl()
    monkeypatch.setenv("GATEWAY_TUTORIAL_STATE_DIR", str(tmp_path / "state"))
    path = _sandbox_progress(tmp_path / "state").path
    for argv in COMMANDS:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        for old in _aside(path):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        _plant(path, form)
        code, out = _main(*argv)
        assert "Traceback" not in out and code in (0, 1), (argv, out)
        (aside,) = _aside(path)
        flat = " ".join(out.split())
        assert str(path) in flat and str(aside) in flat, (argv, out)
        assert path.is_file() or argv[0] == "lessons"

