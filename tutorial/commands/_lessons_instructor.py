"""`gateway-tutorial lessons --instructor`: objectives, expected minutes and notes for a workshop plan."""

from __future__ import annotations

import json

from tutorial.exitcodes import EXIT_OK


def lesson_plan(lessons) -> list[dict]:
    """One entry per lesson (and per challenge, when a lesson has them), in tutorial order."""
    plan = []
    for lesson in lessons.lessons:
        entry = {"id": lesson.id, "order": lesson.order, "title": lesson.title, "minutes": lesson.minutes,
                 "objectives": list(lesson.objectives), "instructor_notes": lesson.instructor_notes,
                 "steps": len(lesson.steps_for())}
        challenges = [s for s in lesson.steps_for() if s.is_challenge]
        if challenges:
            entry["challenges"] = [{"id": c.id, "title": c.title, "minutes": c.breaks.minutes,
                                    "objectives": list(c.breaks.objectives),
                                    "sandbox_only": c.breaks.sandbox_only} for c in challenges]
        plan.append(entry)
    return plan


def total_minutes(plan: list[dict]) -> int:
    return sum(e["minutes"] or 0 for e in plan)


def run(lessons, as_json: bool) -> int:
    plan = lesson_plan(lessons)
    if as_json:
        print(json.dumps({"lessons": plan, "total_minutes": total_minutes(plan)}, indent=2))
        return EXIT_OK
    from rich.markup import escape

    from tutorial.commands._render import console

    out = console()
    missing = [e["id"] for e in plan if e["minutes"] is None]
    note = f" (without {', '.join(missing)}: no minutes given)" if missing else ""
    out.print(f"[bold]Workshop plan[/]: {len(plan)} lessons, about {total_minutes(plan)} minutes{note}")
    for e in plan:
        minutes = f"~{e['minutes']} min" if e["minutes"] else "minutes not given"
        out.print(f"\n[bold]{e['order']}. {escape(e['title'])}[/]  [dim]({e['id']}, {e['steps']} steps)[/]  {minutes}")
        for objective in e["objectives"] or ["(no objectives given)"]:
            out.print(f"   • {escape(objective)}")
        for c in e.get("challenges", []):
            where = "  [dim](sandbox only)[/]" if c["sandbox_only"] else ""
            out.print(f"   ◆ challenge {escape(c['id'])}: {escape(c['title'])}  ~{c['minutes'] or '?'} min{where}")
            for objective in c["objectives"]:
                out.print(f"       – {escape(objective)}")
        if e["instructor_notes"]:
            out.print("   [italic]Notes:[/] " + escape(" ".join(e["instructor_notes"].split())))
    return EXIT_OK
