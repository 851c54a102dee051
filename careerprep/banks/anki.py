"""Anki decks (.apkg) of a role's or a set's published questions, built with genanki.

Every id is derived from slugs and keys, never from the clock: the note type, each set's deck and
each note's GUID are the same on every export, so importing a newer deck into Anki updates the
notes already there (and keeps their review history) instead of adding duplicates.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import genanki
from markupsafe import Markup, escape
from sqlalchemy import false, true

from ..exercises import code_lines
from ..extensions import db
from ..models import Question, QuestionSet, Role
from ..templating import render_markdown

NAMESPACE = "careerprep.anki.v1"
MEDIA_TYPE = "application/apkg"
CSS = """
.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.5; text-align: left;
        color: #1f2328; background: #fff; max-width: 46em; margin: 0 auto; }
.nightMode.card { color: #e6edf3; background: #0d1117; }
pre, code { font-family: ui-monospace, monospace; font-size: 0.9em; }
pre { padding: 0.6em; overflow-x: auto; background: rgba(127, 127, 127, 0.12); }
.key-points { margin-top: 1em; }
.faulty { background: rgba(207, 34, 46, 0.18); }
"""


def stable_id(*parts: str) -> int:
    """A 32-bit id from a fixed namespace and names (top bit set, so it never meets Anki's small ids)."""
    digest = hashlib.sha1("\x1f".join((NAMESPACE, *parts)).encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) | (1 << 31)


MODEL = genanki.Model(
    stable_id("model", "question"),
    "CareerPrep question",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Key"}],
    templates=[
        {"name": "Question", "qfmt": "{{Front}}", "afmt": '{{FrontSide}}<hr id="answer">{{Back}}'},
    ],
    css=CSS,
)


def note_guid(role_slug: str, set_slug: str, key: str) -> str:
    """The note's GUID: Anki matches re-imported notes by it."""
    return genanki.guid_for(role_slug, set_slug, key)


def deck_id(role_slug: str, set_slug: str) -> int:
    """The deck id of one set (the same whether the set was exported alone or with its role)."""
    return stable_id("deck", role_slug, set_slug)


def _code(text: str, language: str | None, faulty: tuple[int, ...] = (), numbered: bool = False) -> Markup:
    """A listing as a code block; numbered (and the faulty lines marked) for spot-the-bug cards."""
    lines = code_lines(text)
    width = len(str(len(lines)))
    rows = []
    for n, line in enumerate(lines, start=1):
        row = Markup("{}{}").format(f"{n:>{width}}  " if numbered else "", line)
        rows.append(Markup('<span class="faulty">{}</span>').format(row) if n in faulty else row)
    return Markup('<pre><code class="language-{}">{}</code></pre>').format(
        language or "text", Markup("\n").join(rows)
    )


def front_html(question: Question) -> str:
    """The card's front: the prompt, then the code or tool output it is about (numbered for spot_bug)."""
    front = render_markdown(question.prompt)
    if question.code and question.kind != "write_code":
        front += _code(question.code, question.language, numbered=question.kind == "spot_bug")
    exercise = question.exercise or {}
    if question.kind == "design" and exercise.get("estimate"):
        front += Markup("<p><strong>Estimate:</strong> {}</p>").format(exercise["estimate"]["prompt"])
    return str(front)


def _exercise_back(question: Question) -> Markup:
    """What a kind shows before the explanation: the output, the faulty lines and the fix, a solution."""
    exercise = question.exercise or {}
    if question.kind == "predict":
        return Markup("<p><strong>Output</strong></p>") + _code(exercise["accepted"][0], "text")
    if question.kind == "spot_bug":
        lines = exercise["bug_lines"]
        label = "Faulty line" if len(lines) == 1 else "Faulty lines"
        return (
            Markup("<p><strong>{}: {}</strong></p>").format(label, ", ".join(map(str, lines)))
            + _code(question.code or "", question.language, tuple(lines), numbered=True)
            + Markup("<p><strong>Fixed</strong></p>")
            + _code(exercise["solution"], question.language)
        )
    if question.kind == "write_code":
        return Markup("<p><strong>A reference solution</strong></p>") + _code(
            exercise["solution"], question.language
        )
    if question.kind == "design" and exercise.get("estimate"):
        e = exercise["estimate"]
        return Markup("<p><strong>Estimate:</strong> about {} {} (accepted {} to {} {})</p>").format(
            f"{e['value']:g}", e["unit"], f"{e['low']:g}", f"{e['high']:g}", e["unit"]
        )
    return Markup("")


def back_html(question: Question) -> str:
    """The card's back: what the kind checks, the answer, follow-ups, then the key points as a list."""
    points = Markup("").join(Markup("<li>{}</li>").format(p) for p in question.key_points)
    back = _exercise_back(question) + render_markdown(question.answer)
    for i, follow_up in enumerate((question.exercise or {}).get("follow_ups", []), start=1):
        back += Markup("<p><strong>Follow-up {}:</strong> {}</p>").format(i, follow_up["prompt"])
        back += render_markdown(follow_up["answer"])
    return str(
        back + Markup('<div class="key-points"><strong>Key points</strong><ul>{}</ul></div>').format(points)
    )


def deck_groups(role: Role, set_id: int | None = None) -> list[tuple[QuestionSet, list[Question]]]:
    """A role's published, live sets (or one of them) with their live questions, in study order."""
    stmt = (
        db.select(QuestionSet, Question)
        .join(Question, Question.set_id == QuestionSet.id)
        .where(
            QuestionSet.role_id == role.id,
            QuestionSet.published == true(),
            QuestionSet.archived == false(),
            Question.archived == false(),
        )
        .order_by(QuestionSet.id, Question.position, Question.id)
    )
    if set_id is not None:
        stmt = stmt.where(QuestionSet.id == set_id)
    groups: dict[int, tuple[QuestionSet, list[Question]]] = {}
    for qset, question in db.session.execute(stmt):
        groups.setdefault(qset.id, (qset, []))[1].append(question)
    return list(groups.values())


def build_package(
    role: Role,
    groups: list[tuple[QuestionSet, list[Question]]],
    progress: Callable[[int], object] | None = None,
) -> genanki.Package:
    """One deck per set, named CareerPrep::Role::Set, so a role's decks nest under it in Anki."""
    decks = []
    for qset, questions in groups:
        deck = genanki.Deck(
            deck_id(role.slug, qset.slug),
            f"CareerPrep::{role.title}::{qset.title}",
            description=str(render_markdown(qset.description)),
        )
        for q in questions:
            deck.add_note(
                genanki.Note(
                    model=MODEL,
                    fields=[
                        front_html(q),
                        back_html(q),
                        str(escape(f"{role.slug}/{qset.slug}/{q.key}")),
                    ],
                    tags=[t.replace(" ", "_") for t in q.tags],  # Anki tags cannot hold spaces
                    guid=note_guid(role.slug, qset.slug, q.key),
                )
            )
            if progress is not None:
                progress(1)
        decks.append(deck)
    return genanki.Package(decks)


def write_package(package: genanki.Package) -> bytes:
    """The .apkg file: a zip holding the SQLite collection and an empty media map.

    This is genanki's write_to_file, minus the temporary database it leaves behind on every call.
    """
    with tempfile.TemporaryDirectory(prefix="careerprep-apkg-") as tmp:
        path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            timestamp = time.time()
            package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
            conn.commit()
        finally:
            conn.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")
    return out.getvalue()


def role_deck(role: Role, progress: Callable[[int], object] | None = None) -> bytes | None:
    """A role's .apkg, or None when it has no published questions."""
    groups = deck_groups(role)
    return write_package(build_package(role, groups, progress)) if groups else None


def set_deck(qset: QuestionSet, progress: Callable[[int], object] | None = None) -> bytes | None:
    """One set's .apkg, or None when the set is unpublished, archived or empty."""
    groups = deck_groups(qset.role, qset.id)
    return write_package(build_package(qset.role, groups, progress)) if groups else None


def deck_filename(role: Role, qset: QuestionSet | None = None) -> str:
    """careerprep-<role>[-<set>].apkg."""
    return f"careerprep-{role.slug}{'-' + qset.slug if qset else ''}.apkg"
