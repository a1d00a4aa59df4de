"""The first screen: lesson titles before the cluster answers, marks saying "checking…" until then."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.ui.conftest import DEMO_LESSONS, SIZE, ready, run, until
from tutorial.cli import build_parser
from tutorial.commands._common import load_lesson_set
from tutorial.ui import app as app_module
from tutorial.ui.widgets.lesson_list import LessonList


def _prompts(app) -> list[str]:
    options = app.screen.query_one(LessonList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def _silent_server(tmp_path):
    """A kubeconfig whose server accepts connections and never answers (a cluster far away)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    port = sock.getsockname()[1]
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
current-context: far
clusters:
- name: far
  cluster: {{server: "http://127.0.0.1:{port}"}}
contexts:
- name: far
  context: {{cluster: far, user: far}}
users:
- name: far
  user: {{token: secret}}
""")
    return sock, path


def test_titles_are_listed_with_checking_marks_before_the_cluster_answers(build, tmp_path, monkeypatch):
    sock, kubeconfig = _silent_server(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    argv = ["--lessons", str(DEMO_LESSONS)]
    load_lesson_set(build_parser().parse_args(argv))  # a second start: the lessons cache is warm
    app = build(*argv)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.preview is not None and app.engine is None  # the cache's outline, on mount
            prompts = _prompts(app)
            assert all(any(row[2] in p for p in prompts) for row in app.preview)  # every lesson title
            await until(pilot, lambda: app.lessons is not None)  # the whole set, read after the paint
            assert _prompts(app) == prompts  # the same list
            assert any("… checking" in p for p in prompts)
            assert not any("todo" in p or "continue here" in p for p in prompts)
            assert "Connecting to the cluster" in str(app.screen.query_one("#lesson-detail").render())
            await ready(pilot)  # the silent server times out; the app falls back to the sandbox
            await until(pilot, lambda: not any("checking" in p for p in _prompts(app)))
            assert any("continue here" in p for p in _prompts(app))

    try:
        run(scenario())
    finally:
        sock.close()


def test_without_a_cache_the_worker_parses_and_lists_them(build, state_dir):
    app = build("--sandbox", "--lessons", str(DEMO_LESSONS))

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            prompts = _prompts(app)
            assert any(app.lessons.lessons[0].title in p for p in prompts)
            assert any("continue here" in p for p in prompts)

    assert not (state_dir / "cache").exists()
    run(scenario())
    assert any((state_dir / "cache").iterdir())  # the next start reads it


PROBE = """
import sys
from tutorial.cli import build_parser
from tutorial.ui.app import TutorialApp

class Probe(TutorialApp):
    def show_first_outline(self):
        def painted():  # runs after the frame with the list, before the connect worker is released
            print("kubernetes" in sys.modules, "tutorial.engine.session" in sys.modules, flush=True)
            self.exit()
        self.call_after_refresh(painted)
        super().show_first_outline()

Probe(build_parser().parse_args(sys.argv[1:])).run(headless=True, size=(100, 30))
"""


def test_kubernetes_is_not_imported_before_the_list_is_painted(state_dir, tmp_path):
    import subprocess
    import sys

    probe = tmp_path / "probe.py"  # a file: Textual finds app.tcss relative to the app's source
    probe.write_text(PROBE.replace("class Probe(TutorialApp):", "class Probe(TutorialApp):\n    CSS_PATH = "
                                   f"{str(Path(app_module.__file__).with_name('app.tcss'))!r}"))
    argv = ["--sandbox", "--lessons", str(DEMO_LESSONS)]
    for _ in range(2):  # the first start parses (cache miss), the second reads the cache
        out = subprocess.run([sys.executable, str(probe), *argv], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.split()[-2:] == ["False", "False"]
    assert any((state_dir / "cache").iterdir())


def test_the_tutorials_own_options_parse_as_the_full_parser_parses_them():
    """main() skips build_parser (every subcommand's import) for `gateway-tutorial [cluster options]`;
    the Namespace is the same, and anything else goes through the full parser."""
    import contextlib
    import io

    from tutorial.cli import tutorial_args

    light = [[], ["--sandbox"], ["--context", "kind-lab"], ["--context=run", "--offline"],
             ["--kubeconfig", "a:b", "--lessons", "x", "--allow-production", "p"], ["--context", "lessons"]]
    full = [["lessons"], ["--sandbox", "status"], ["-h"], ["--version"], ["--sand"], ["--context"], ["bogus"],
            ["--", "x"]]
    for argv in light:
        assert tutorial_args(argv) == build_parser().parse_args(argv), argv
    for argv in full:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            assert tutorial_args(argv) is None, argv
