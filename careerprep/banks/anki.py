"""Anki decks (.apkg) of a role's or a set's published questions, built with genanki.

No id comes from the clock: the note type and each set's deck are derived from fixed names and
slugs, each note's GUID from its question's permanent id (question.uid), so importing a newer deck
into Anki updates the notes already there (keeping their review history) instead of adding
duplicates, whatever was renamed. Note times are the questions' `updated_at` and the note type's is
fixed, so a re-import touches only what changed and never a user's own note-type styling.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import genanki
from flask import has_request_context, url_for
from markupsafe import Markup, escape
from sqlalchemy import false, true

from ..exercises import code_lines
from ..extensions import db
from ..models import Question, QuestionSet, Role, User, utc_now
from ..templating import render_markdown, render_markdown_inline
from . import anki_progress

NAMESPACE = "careerprep.anki.v1"
MEDIA_TYPE = "application/apkg"
# The note type's modification time, fixed: Anki replaces a note type only when an import's is newer,
# so a user's own CSS or template edits survive every later import. Move it when the note type
# itself changes (fields, templates, CSS) and say so in the release notes.
MODEL_MOD = 1_765_152_000  # 2025-12-08
CSS = """
.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.5; text-align: left;
        color: #1f2328; background: #fff; max-width: 46em; margin: 0 auto; }
.nightMode.card { color: #e6edf3; background: #0d1117; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
pre { padding: 0.6em 0.8em; overflow-x: auto; border-radius: 6px; background: rgba(127, 127, 127, 0.12);
      line-height: 1.4; tab-size: 4; }
:not(pre) > code { padding: 0.1em 0.35em; border-radius: 4px; background: rgba(127, 127, 127, 0.15); }
.key-points { margin-top: 1em; }
.meta { margin-top: 1.5em; font-size: 0.8em; opacity: 0.7; }
.faulty { background: rgba(207, 34, 46, 0.18); }
"""
FIELDS = ("Prompt", "Answer", "Key points", "Category", "Difficulty", "Link", "Id")
RETIRED_TAG = "CareerPrep::retired"


def stable_id(*parts: str) -> int:
    """A 32-bit id from a fixed namespace and names (top bit set, so it never meets Anki's small ids)."""
    digest = hashlib.sha1("\x1f".join((NAMESPACE, *parts)).encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) | (1 << 31)


# A new id: the fields changed from (Front, Back, Key), and Anki never maps one note type onto another
# with different fields by itself. Notes of the old type stay as they are (README: moving to it).
MODEL = genanki.Model(
    stable_id("model", "question", "fields-v2"),
    "CareerPrep question (v2)",
    fields=[{"name": name} for name in FIELDS],
    templates=[
        {
            "name": "Question",
            "qfmt": '<div class="prompt">{{Prompt}}</div>',
            "afmt": (
                '{{FrontSide}}<hr id="answer">{{Answer}}'
                '{{#Key points}}<div class="key-points"><strong>Key points</strong>{{Key points}}</div>'
                "{{/Key points}}"
                '<p class="meta">{{Category}} · difficulty {{Difficulty}}{{#Link}} · {{Link}}{{/Link}}</p>'
            ),
        },
    ],
    css=CSS,
    sort_field_index=0,
)


def note_guid(uid: str) -> str:
    """The note's GUID, from the question's permanent id: Anki matches re-imported notes by it, and
    no edit of a key, set or slug changes it."""
    return genanki.guid_for("careerprep", uid)


def deck_id(role_slug: str, set_slug: str) -> int:
    """The deck id of one set (the same whether the set was exported alone or with its role)."""
    return stable_id("deck", role_slug, set_slug)


def point_text(point: str | dict) -> str:
    """A key point's Markdown (a point may be text, or a mapping with its text and its terms)."""
    return point["text"] if isinstance(point, dict) else point


def tag(text: str) -> str:
    """One level of an Anki tag: no spaces (they separate tags) and no `::` (it nests them)."""
    return "_".join(text.replace("::", ":").split())


def note_tags(role: Role, qset: QuestionSet, question: Question) -> list[str]:
    """Hierarchical tags, so CareerPrep's sit under one branch of Anki's tag tree."""
    tags = [
        f"CareerPrep::{tag(role.slug)}::{tag(qset.slug)}",
        f"CareerPrep::difficulty::{question.difficulty}",
        f"CareerPrep::category::{tag(question.category)}",
        *(f"CareerPrep::topic::{tag(t)}" for t in question.tags),
    ]
    if question.archived or qset.archived:
        tags.append(RETIRED_TAG)
    return tags


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
    """The card's answer: what the kind checks, the answer, then the follow-ups."""
    back = _exercise_back(question) + render_markdown(question.answer)
    for i, follow_up in enumerate((question.exercise or {}).get("follow_ups", []), start=1):
        back += Markup("<p><strong>Follow-up {}:</strong> {}</p>").format(i, follow_up["prompt"])
        back += render_markdown(follow_up["answer"])
    return str(back)


def key_points_html(question: Question) -> str:
    """The key points as a list, each through the one sanitising Markdown renderer (code, emphasis)."""
    items = (Markup("<li>{}</li>").format(render_markdown_inline(point_text(p))) for p in question.key_points)
    return str(Markup("<ul>{}</ul>").format(Markup("").join(items)))


def link_html(question: Question) -> str:
    """A link to the question's page on this server (empty outside a request: no host to name)."""
    if not has_request_context():
        return ""
    url = url_for("practice.history", question_id=question.id, _external=True)
    return str(Markup('<a href="{}">Open in CareerPrep</a>').format(url))


def note_fields(question: Question) -> list[str]:
    """The note's fields, in FIELDS order."""
    return [
        front_html(question),
        back_html(question),
        key_points_html(question),
        str(escape(question.category)),
        str(question.difficulty),
        link_html(question),
        question.uid,
    ]


def deck_groups(role: Role, set_id: int | None = None) -> list[tuple[QuestionSet, list[Question]]]:
    """A role's published sets (or one of them) with their questions, in study order.

    Archived questions (and the questions of archived sets) come too, tagged CareerPrep::retired,
    so a user who imported them before sees them retired instead of lingering unexplained; a set
    with no live question is left out.
    """
    stmt = (
        db.select(QuestionSet, Question)
        .join(Question, Question.set_id == QuestionSet.id)
        .where(QuestionSet.role_id == role.id, QuestionSet.published == true())
        .order_by(QuestionSet.id, Question.archived, Question.position, Question.id)
    )
    if set_id is not None:
        stmt = stmt.where(QuestionSet.id == set_id)
    groups: dict[int, tuple[QuestionSet, list[Question]]] = {}
    for qset, question in db.session.execute(stmt):
        groups.setdefault(qset.id, (qset, []))[1].append(question)
    return [
        (qset, questions)
        for qset, questions in groups.values()
        if not qset.archived and any(not q.archived for q in questions)
    ]


def deck_name(role: Role, qset: QuestionSet) -> str:
    """CareerPrep::Role::Set: Anki matches decks by name, so a renamed set's new cards go to a new deck
    (the cards already imported stay where they are; the README says so)."""
    return f"CareerPrep::{role.title.replace('::', ':')}::{qset.title.replace('::', ':')}"


def build_package(
    role: Role,
    groups: list[tuple[QuestionSet, list[Question]]],
    progress: Callable[[int], object] | None = None,
) -> tuple[genanki.Package, dict[str, Question]]:
    """One deck per set, nested under the role in Anki; returns the package and its questions by GUID."""
    decks = []
    by_guid: dict[str, Question] = {}
    for qset, questions in groups:
        deck = genanki.Deck(
            deck_id(role.slug, qset.slug),
            deck_name(role, qset),
            description=str(render_markdown(qset.description)),
        )
        for q in questions:
            guid = note_guid(q.uid)
            deck.add_note(
                genanki.Note(model=MODEL, fields=note_fields(q), tags=note_tags(role, qset, q), guid=guid)
            )
            by_guid[guid] = q
            if progress is not None:
                progress(1)
        decks.append(deck)
    return genanki.Package(decks), by_guid


def write_package(
    package: genanki.Package,
    by_guid: dict[str, Question],
    user: User | None = None,
    now: datetime | None = None,
) -> bytes:
    """The .apkg file: a zip holding the SQLite collection and an empty media map.

    Each note's modification time is its question's `updated_at` and the note type's is fixed, so
    Anki updates only the notes whose question changed and keeps a user's own styling. With a user,
    their card states and review log go into Anki's scheduling tables (anki_progress).
    This is genanki's write_to_file, minus the temporary database it leaves behind on every call.
    """
    now = now or utc_now()
    with tempfile.TemporaryDirectory(prefix="careerprep-apkg-") as tmp:
        path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            timestamp = time.time()
            package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
            _fix_times(conn, by_guid)
            if user is not None:
                anki_progress.write(conn, user, by_guid, now)
            conn.commit()
        finally:
            conn.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")
    return out.getvalue()


def _fix_times(conn: sqlite3.Connection, by_guid: dict[str, Question]) -> None:
    """Note times from the questions, the note type's fixed (genanki writes the export time on all)."""
    conn.executemany(
        "UPDATE notes SET mod = ? WHERE guid = ?",
        [(int(q.updated_at.timestamp()), guid) for guid, q in by_guid.items()],
    )
    conn.executemany(
        "UPDATE cards SET mod = ? WHERE nid IN (SELECT id FROM notes WHERE guid = ?)",
        [(int(q.updated_at.timestamp()), guid) for guid, q in by_guid.items()],
    )
    (models_json,) = conn.execute("SELECT models FROM col").fetchone()
    models = json.loads(models_json)
    for model in models.values():
        model["mod"] = MODEL_MOD
    conn.execute("UPDATE col SET models = ?", (json.dumps(models),))


def role_deck(
    role: Role, progress: Callable[[int], object] | None = None, user: User | None = None
) -> bytes | None:
    """A role's .apkg (with `user`'s progress when given), or None when it has no published questions."""
    groups = deck_groups(role)
    if not groups:
        return None
    package, by_guid = build_package(role, groups, progress)
    return write_package(package, by_guid, user)


def catalogue_deck(progress: Callable[[int], object] | None = None, user: User | None = None) -> bytes | None:
    """Every live role's decks in one .apkg (each role a branch under CareerPrep), or None if empty."""
    decks, by_guid = [], {}
    for role in db.session.scalars(db.select(Role).where(Role.archived == false()).order_by(Role.slug)):
        groups = deck_groups(role)
        if groups:
            package, found = build_package(role, groups, progress)
            decks.extend(package.decks)
            by_guid |= found
    return write_package(genanki.Package(decks), by_guid, user) if decks else None


def set_deck(qset: QuestionSet, progress: Callable[[int], object] | None = None) -> bytes | None:
    """One set's .apkg, or None when the set is unpublished, archived or empty."""
    groups = deck_groups(qset.role, qset.id)
    if not groups:
        return None
    return write_package(*build_package(qset.role, groups, progress))


def deck_filename(role: Role, qset: QuestionSet | None = None, with_progress: bool = False) -> str:
    """careerprep-<role>[-<set>][-progress].apkg."""
    return (
        f"careerprep-{role.slug}{'-' + qset.slug if qset else ''}{'-progress' if with_progress else ''}.apkg"
    )
