"""The first screen: lesson titles before the cluster answers, marks saying "checking…" until then."""

from __future__ import annotations

import socket

from tests.ui.conftest import DEMO_LESSONS, SIZE, ready, run, until
from tutorial.cli import build_parser
from tutorial.commands._common import load_lesson_set
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
            assert app.lessons is not None and app.engine is None  # from the cache, on mount
            prompts = _prompts(app)
            assert any(lesson.title in p for lesson in app.lessons.lessons for p in prompts)
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
