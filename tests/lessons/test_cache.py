"""The lessons cache: same lessons as the loader, invalidated by any change, never hides an error."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from lessonfix import ASSETS, edit, line_of

from tutorial.lessons import LessonErrors, load_lessons
from tutorial.lessons.cache import cached_lessons, load_lessons_cached


@pytest.fixture
def assets(tmp_path):
    target = tmp_path / "assets"
    shutil.copytree(ASSETS, target)
    return target


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def test_a_clean_load_is_cached_and_equal_to_the_loaders(lesson_dir, assets, cache):
    assert cached_lessons(lesson_dir, assets, cache=cache) is None
    first = load_lessons_cached(lesson_dir, assets, cache=cache)
    assert first == load_lessons(lesson_dir, assets)
    hit = cached_lessons(lesson_dir, assets, cache=cache)
    assert hit is not None and hit is not first and hit == first
    assert [l.title for l in hit.lessons] == [l.title for l in first.lessons]
    assert len(list(cache.iterdir())) == 1


def test_a_changed_file_is_read_again(lesson_dir, assets, cache):
    load_lessons_cached(lesson_dir, assets, cache=cache)
    path = lesson_dir / "10-basics.yaml"
    old_title = load_lessons(lesson_dir, assets).lessons[0].title
    edit(path, f"title: {old_title}", "title: Basics, renamed")
    assert cached_lessons(lesson_dir, assets, cache=cache) is None
    assert load_lessons_cached(lesson_dir, assets, cache=cache).lessons[0].title == "Basics, renamed"
    assert len(list(cache.iterdir())) == 1  # overwritten, not added to


def test_a_new_or_removed_file_is_read_again(lesson_dir, assets, cache):
    before = load_lessons_cached(lesson_dir, assets, cache=cache)
    (lesson_dir / "30-gateway.yaml").unlink()
    after = load_lessons_cached(lesson_dir, assets, cache=cache)
    assert len(after.lessons) == len(before.lessons) - 1


def test_a_broken_file_still_gives_file_line_errors(lesson_dir, assets, cache):
    load_lessons_cached(lesson_dir, assets, cache=cache)
    path = lesson_dir / "20-mesh.yaml"
    line = line_of(path, "title:")
    text = path.read_text().splitlines()
    text[line - 1] = text[line - 1].replace("title:", "titel:")
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(LessonErrors) as caught:
        load_lessons_cached(lesson_dir, assets, cache=cache)
    assert f"{path}:{line}" in str(caught.value)
    with pytest.raises(LessonErrors):  # and again: a failed load is never cached
        load_lessons_cached(lesson_dir, assets, cache=cache)


def test_a_removed_asset_is_noticed(lesson_dir, assets, cache):
    load_lessons_cached(lesson_dir, assets, cache=cache)
    (assets / "gateway-api" / "gateway.yaml").unlink()
    assert cached_lessons(lesson_dir, assets, cache=cache) is None
    with pytest.raises(LessonErrors, match="gateway.yaml"):
        load_lessons_cached(lesson_dir, assets, cache=cache)


def test_a_corrupt_cache_is_ignored(lesson_dir, assets, cache):
    expected = load_lessons_cached(lesson_dir, assets, cache=cache)
    (only,) = cache.iterdir()
    only.write_bytes(b"not a pickle")
    assert cached_lessons(lesson_dir, assets, cache=cache) is None
    assert load_lessons_cached(lesson_dir, assets, cache=cache) == expected


def test_a_cache_hit_imports_neither_the_loader_nor_yaml(lesson_dir, assets, cache):
    load_lessons_cached(lesson_dir, assets, cache=cache)
    code = ("import sys; from pathlib import Path; from tutorial.lessons.cache import cached_lessons;"
            f"hit = cached_lessons(Path({str(lesson_dir)!r}), Path({str(assets)!r}), cache=Path({str(cache)!r}));"
            "print(hit is not None, 'yaml' in sys.modules, 'tutorial.lessons.loader' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]


def test_the_outline_is_read_without_the_lesson_set_and_matches_it(lesson_dir, assets, cache):
    from tutorial.lessons.cache import cached_outline, outline

    assert cached_outline(lesson_dir, assets, cache=cache) is None
    lessons = load_lessons_cached(lesson_dir, assets, cache=cache)
    assert cached_outline(lesson_dir, assets, cache=cache) == outline(lessons)
    (lesson_id, order, title, summary, variant, steps) = outline(lessons)[0]
    first = lessons.lessons[0]
    assert (lesson_id, order, title, summary) == (first.id, first.order, first.title, first.summary)
    assert steps == tuple((s.target, s.title) for s in first.steps_for(None))
    code = ("import sys; from pathlib import Path; from tutorial.lessons.cache import cached_outline;"
            f"hit = cached_outline(Path({str(lesson_dir)!r}), Path({str(assets)!r}), cache=Path({str(cache)!r}));"
            "print(hit is not None, 'tutorial.lessons.models' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
    edit(lesson_dir / "10-basics.yaml", f"title: {first.title}", "title: Basics, renamed")
    assert cached_outline(lesson_dir, assets, cache=cache) is None  # same key as the lessons
