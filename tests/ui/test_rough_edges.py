"""What a full walk at 80x24 found: each test here failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

from tests.ui.conftest import demo_args, drive, finished, ready, run, until
from tutorial.ui.screens.lessons import LessonsScreen
from tutorial.ui.screens.modals import ConfirmModal
from tutorial.ui.screens.step import StepScreen
from tutorial.ui.widgets.lesson_list import LessonList

SMALL = (80, 24)
README = Path(__file__).resolve().parents[2] / "README.md"


async def _palette(pilot, words: str) -> None:
    pilot.app.action_command_palette()
    await pilot.pause()
    await pilot.press(*words)
    await pilot.pause(0.5)
    await pilot.press("enter")
    await pilot.pause()


def test_theme_from_the_palette_keeps_the_commands_visible(build):
    app = build(*demo_args())

    async def scenario(pilot):
        app.open_step("demo/namespace")
        await pilot.pause()
        dark = app.current_theme.dark
        await _palette(pilot, "toggle light")
        assert app.current_theme.dark != dark
        commands = app.screen.query_one("#step-commands")
        assert commands.styles.visibility == "visible"
        assert all(w.styles.visibility == "visible" for w in commands.query(".command"))
        lines = [str(w.render()) for w in commands.query(".command")]
        assert any("kubectl apply -f - --context sandbox" in l for l in lines), lines

    drive(app, scenario)


def test_lesson_list_follows_skip_on_the_last_step(build):
    app = build(*demo_args())

    async def scenario(pilot):
        for target in ("demo/namespace", "demo/config"):
            app.engine.progress.set(target, "done")
        app.engine.progress.set("demo/watch", "failed")
        app.open_step("demo/watch")
        await pilot.pause()
        await pilot.press("k")  # the last step: skip goes back to the list
        await pilot.pause()
        assert isinstance(app.screen, LessonsScreen)
        prompt = str(app.screen.query_one(LessonList).get_option("S:demo/watch").prompt)
        assert "skipped" in prompt and "continue here" not in prompt, prompt

    drive(app, scenario)


def test_lesson_list_follows_progress_written_by_another_terminal(build):
    app = build(*demo_args())

    async def scenario(pilot):
        # Another process (`gateway-tutorial run all` in another terminal) writes the same file.
        from tutorial.engine.progress import ProgressStore

        other = ProgressStore.for_cluster(*app.engine.target.identity)
        other.set("demo/namespace", "done")
        other.set("demo/config", "done")
        lessons = app.screen.query_one(LessonList)
        await until(pilot, lambda: "2/3 done" in str(lessons.get_option("L:demo").prompt), timeout=10)

    drive(app, scenario)


def test_after_reset_and_quit_enter_opens_the_continue_here_step(build):
    first = build(*demo_args())

    async def walk_and_reset():
        async with first.run_test(size=(100, 32)) as pilot:
            await ready(pilot)
            first.engine.progress.set("demo/namespace", "done")
            first.open_step("demo/config")
            await pilot.pause()
            await pilot.press("r")
            await finished(pilot)
            lines = await _undo_confirmed(pilot)  # `u` says what it did, in the output pane
            assert any("nothing" in l.lower() or "deleted" in l for l in lines), lines
            await pilot.press("q")

    run(walk_and_reset())
    again = build(*demo_args())

    async def resume():
        async with again.run_test(size=(100, 32)) as pilot:
            await ready(pilot)
            await pilot.press("enter")
            assert isinstance(again.screen, StepScreen)
            assert again.screen.step.target == "demo/config"  # the "← continue here" step

    run(resume())


async def _undo_confirmed(pilot) -> list[str]:
    """`u` on the open step, confirmed with `y`; the output pane's lines once it has finished."""
    await pilot.press("u")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), timeout=20)
    await pilot.press("y")
    await finished(pilot)
    return pilot.app.screen.query_one("#output").lines


def test_reset_shows_the_deletes_it_ran(build):
    app = build(*demo_args())

    async def scenario(pilot):
        await pilot.press("enter", "r")
        await finished(pilot)
        lines = await _undo_confirmed(pilot)
        assert any("deleted" in l and "Namespace demo" in l for l in lines), lines

    drive(app, scenario)


def _footer_fits(app) -> None:
    from textual.widgets._footer import FooterKey

    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    limit = palette[0].region.x if palette else app.size.width
    for key in keys:
        if not key.has_class("-command-palette"):
            assert key.region.width > 0 and key.region.right <= limit, \
                f"footer key {key.key} at {key.region} is cut (palette at {limit})"


def test_80x24_footer_keeps_every_key_when_fix_appears(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SMALL) as pilot:
            await ready(pilot)
            app.engine.progress.set("demo/namespace", "skipped")
            app.open_step("demo/config")
            await pilot.pause()
            await pilot.press("r")
            await finished(pilot)
            assert app.screen.check_action("fix", ())
            _footer_fits(app)

    run(scenario())


def test_80x24_output_wraps_and_more_keys_fit_and_match_the_step(build):
    app = build(*demo_args())

    async def scenario():
        async with app.run_test(size=SMALL) as pilot:
            await ready(pilot)
            app.open_step("demo/config")  # no YAML on this step
            await pilot.pause()
            more = app.screen.query_one("#more-keys")
            text = str(more.render())
            assert "copy YAML" not in text
            assert more.region.width <= app.size.width and more.virtual_size.width <= more.region.width + 1
            await pilot.press("r")
            await finished(pilot)
            output = app.screen.query_one("#output")
            log = output.query_one("#output-log")
            assert log.size.height >= 5
            assert not log.show_horizontal_scrollbar  # long lines wrap instead of running off

    run(scenario())


def test_y_says_what_it_did_and_where_the_file_is(build):
    app = build(*demo_args())

    async def scenario(pilot):
        app.open_step("demo/namespace")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        said = " ".join(str(n.message) for n in app._notifications)
        assert "The YAML is on the clipboard" not in said
        path = re.search(r"(/\S+\.yaml)", said)
        assert path, said
        assert "name: demo" in Path(path.group(1)).read_text(encoding="utf-8")
        assert app.clipboard.startswith("apiVersion: v1")

    drive(app, scenario)


def test_readme_key_table_matches_the_footers():
    """Every key the README's table names is in a footer or the step's More keys line, and back."""
    from tutorial.ui.screens import step
    from tutorial.ui.app import TutorialApp

    table = README.read_text(encoding="utf-8").split("| where | keys |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"`([^`]+)`", table))
    shown = {b.key for b in LessonsScreen.BINDINGS + StepScreen.BINDINGS + TutorialApp.BINDINGS if b.show}
    shown |= {item.split()[0] for item in step.more_keys(True).split(":", 1)[1].split("·")}
    aliases = {"escape": "esc", "question_mark": "?", "exclamation_mark": "!", "ctrl+p": "ctrl+p", "enter": "enter"}
    shown = {aliases.get(k, k) for k in shown} | {"ctrl+p", "enter"}
    documented = {k for d in documented for k in d.split("/")}
    assert shown - documented == set(), f"shown but not in the README: {shown - documented}"
    assert documented - shown == set(), f"in the README but shown nowhere: {documented - shown}"


def test_80x24_yaml_never_wraps_with_the_live_pane_open(build):
    app = build("--sandbox")

    async def scenario():
        async with app.run_test(size=SMALL) as pilot:
            await ready(pilot)
            app.open_step("httproute/apply-route")
            await pilot.pause()
            await pilot.press("w")
            await pilot.pause()
            yaml = app.screen.query_one(".yaml")
            text = app.screen.step.manifests[0].text.rstrip("\n")
            assert yaml.size.height == len(text.splitlines())  # one screen line per YAML line
            assert yaml.size.width >= max(len(l) for l in text.splitlines())  # nothing cut: it scrolls

    run(scenario())
