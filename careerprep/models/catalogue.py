"""The catalogue: role → question set → question."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utc_now

# Permanent question ids are uuid5 of this namespace and "role/set/key" at the time the question is
# first stored, so two servers seeded from the same banks agree on every id without storing them.
UID_NAMESPACE = uuid.UUID("6f1c1a52-8a4e-5b7e-9d3c-2f0d8e6b4a11")


def question_uid(role_slug: str, set_slug: str, key: str) -> str:
    """The permanent id a question gets when it is first stored (kept through every later rename)."""
    return uuid.uuid5(UID_NAMESPACE, f"{role_slug}/{set_slug}/{key}").hex


def _random_uid() -> str:
    """A fresh permanent id for a question created outside a bank import or the editor (tests)."""
    return uuid.uuid4().hex


class Role(db.Model):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # FSRS parameters fitted from everyone's reviews of this role (None: FSRS's own defaults).
    fsrs_params: Mapped[list[float] | None] = mapped_column(JSON(none_as_null=True))

    sets: Mapped[list[QuestionSet]] = relationship(back_populates="role", order_by="QuestionSet.id")


class QuestionSet(db.Model):
    __tablename__ = "question_set"
    __table_args__ = (UniqueConstraint("role_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    role: Mapped[Role] = relationship(back_populates="sets")
    questions: Mapped[list[Question]] = relationship(back_populates="question_set", order_by="Question.id")


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("set_id", "key"),
        CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty_range"),
        # Covers counting and choosing visible questions without reading their (large) rows:
        # bench/RESULTS.md has what it bought. The id is listed for
        # PostgreSQL (SQLite's rowid is in every index already): joins to card_state need it.
        Index("ix_question_set_visible", "set_id", "archived", "difficulty", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The permanent id: bank files carry it as `id`, Anki GUIDs and data imports match on it, and no
    # edit (key, set, slug) changes it. The key is the author's handle and may change.
    uid: Mapped[str] = mapped_column(String(64), unique=True, default=_random_uid)
    set_id: Mapped[int] = mapped_column(ForeignKey("question_set.id"))
    key: Mapped[str] = mapped_column(String(120))
    # The exercise kind (careerprep.exercises.KINDS): recall, predict, spot_bug, write_code, read_output,
    # design. A code listing or tool output shown with the prompt, and its language.
    kind: Mapped[str] = mapped_column(String(20), default="recall", server_default="recall")
    code: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(20))
    # What the kind checks or reveals: accepted outputs, faulty lines and the fix, a reference solution
    # and its tests, follow-ups and an estimate (see banks/validate.py for the fields of each kind).
    exercise: Mapped[dict | None] = mapped_column(JSON)
    prompt: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    key_points: Mapped[list[str]] = mapped_column(JSON, default=list)  # the texts, in bank order
    # The author's terms for some key points: point text -> {"terms": [...], "required": [...]} (None: none).
    # Kept apart so everything that shows key points reads plain text (banks/kinds.py splits and joins).
    key_point_terms: Mapped[dict | None] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(120))
    difficulty: Mapped[int] = mapped_column(Integer, default=2)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Order within its set; new cards are introduced easiest first, interleaving the sets.
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the content last changed (an import or the editor; not its position): an Anki note's
    # modification time, so re-importing a deck updates only the notes that really changed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    question_set: Mapped[QuestionSet] = relationship(back_populates="questions")
