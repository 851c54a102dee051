"""Your data: export everything CareerPrep stores about you as JSON, and the review log as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Result, Select, func, or_, select

from ..banks.csv_bank import FORMULA_PREFIXES  # cells a spreadsheet would run as formulas
from ..extensions import db
from ..localtime import zone
from ..models import (
    CardFlag,
    CardState,
    MockInterview,
    MockItem,
    Question,
    QuestionSet,
    Report,
    Review,
    Role,
    RolePlan,
    SchedulerFit,
    User,
    UserSession,
)
from ..queries import card_join, flag_join
from ..scheduling import RATING_LABELS, STATE_LABELS

# 2: permanent question ids, theme, reports, each review's prev_state, attempt and correctness, so
# account/restore.py can import the document on another server.
FORMAT_VERSION = 2
PROMPT_CHARS = 200
# Rows fetched per round trip: memory stays flat however long the review log grows.
BATCH = 500
# Bytes of text gathered before handing a piece of the download to the server.
CHUNK = 64 * 1024
CSV_HEADER = (
    "review_id",
    "reviewed_at",
    "reviewed_at_local",
    "role",
    "set",
    "question_key",
    "category",
    "rating",
    "rating_label",
    "duration_seconds",
    "state_after",
    "stability",
    "difficulty",
    "due",
    "interval_days",
    "mode",
    "key_points_covered",
    "key_points_total",
    "draft",
)


def iso(value: date | datetime | None) -> str | None:
    """ISO 8601 text for a date or an aware UTC datetime (the models hand back aware UTC)."""
    return None if value is None else value.isoformat()


def _stream(rows: Select) -> Result:
    """Execute a select in batches (one query, fetched BATCH rows at a time)."""
    return db.session.execute(rows.execution_options(yield_per=BATCH))


def _chunked(pieces: Iterable[str]) -> Iterator[str]:
    """Join small pieces of text into chunks of about CHUNK characters."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


# -- JSON ------------------------------------------------------------------------------------------


def export_document(user: User, now: datetime) -> Iterator[str]:
    """Everything stored about the user as one JSON document, streamed in a fixed number of queries."""
    sections: list[tuple[str, Any]] = [
        ("exported_at", iso(now)),
        ("format_version", FORMAT_VERSION),
        (
            "profile",
            {
                "email": user.email,
                "display_name": user.display_name,
                "created_at": iso(user.created_at),
                "is_admin": user.is_admin,
            },
        ),
        (
            "settings",
            {
                "new_per_day": user.new_per_day,
                "max_reviews_per_day": user.max_reviews_per_day,
                "desired_retention": user.desired_retention,
                "draft_enabled": user.draft_enabled,
                "keep_recordings": user.keep_recordings,
                "mock_questions": user.mock_questions,
                "mock_minutes": user.mock_minutes,
                "timezone": user.timezone,
                "theme": user.theme,
            },
        ),
        # Generators: each runs its one query only when the stream reaches it.
        ("interview_dates", _interview_dates(user.id)),
        ("cards", _cards(user.id)),
        ("reviews", _reviews(user.id)),
        ("mock_interviews", _mock_interviews(user.id)),
        ("reports", _reports(user.id)),
        ("recordings", _recordings(user.id)),
        ("sessions", _sessions(user.id)),
        (
            "scheduler",
            {
                "fsrs_parameters": user.fsrs_params,
                "easy_days": user.easy_days,
                "load_balance": user.load_balance,
                "share_reviews": user.share_reviews,
                "fits": _fits(user.id),
            },
        ),
    ]
    return _chunked(_json_object(sections))


def _fits(user_id: int) -> list[dict]:
    """Every fit of the user's scheduler, oldest first, with its figures."""
    rows = db.session.scalars(
        select(SchedulerFit).where(SchedulerFit.user_id == user_id).order_by(SchedulerFit.created_at)
    )
    return [
        {
            "created_at": iso(f.created_at),
            "fsrs_version": f.fsrs_version,
            "parameters": f.parameters,
            "reviews": f.reviews,
            "held_out": f.held_out,
            "log_loss": [f.log_loss_old, f.log_loss_new],
            "rmse": [f.rmse_old, f.rmse_new],
            "accepted": f.accepted,
        }
        for f in rows
    ]


def _json_object(sections: list[tuple[str, Any]]) -> Iterator[str]:
    """A JSON object written key by key; a generator value is written as an array, item by item."""
    yield "{"
    for n, (key, value) in enumerate(sections):
        yield ("," if n else "") + "\n  " + json.dumps(key) + ": "
        if isinstance(value, Iterator):
            yield "["
            empty = True
            for item in value:
                yield ("\n    " if empty else ",\n    ") + json.dumps(item, ensure_ascii=False)
                empty = False
            yield "]" if empty else "\n  ]"
        else:
            yield json.dumps(value, ensure_ascii=False)
    yield "\n}\n"


def _interview_dates(user_id: int) -> Iterator[dict]:
    """Interview dates, one per role."""
    rows = db.session.execute(
        select(Role.slug, RolePlan.interview_date)
        .join(Role, Role.id == RolePlan.role_id)
        .where(RolePlan.user_id == user_id)
        .order_by(RolePlan.interview_date, Role.slug)
    )
    for slug, day in rows:
        yield {"role": slug, "date": iso(day)}


def _cards(user_id: int) -> Iterator[dict]:
    """Every question with a card state or a flag (a card can be suspended before its first rating)."""
    state, flag = card_join(user_id), flag_join(user_id)
    rows = _stream(
        select(
            Role.slug.label("role"),
            QuestionSet.slug.label("set"),
            Question.key,
            Question.uid,
            func.substr(Question.prompt, 1, PROMPT_CHARS).label("prompt"),
            CardState.state,
            CardState.step,
            CardState.stability,
            CardState.difficulty,
            CardState.due,
            CardState.last_review,
            CardState.reps,
            CardState.lapses,
            CardState.introduced_at,
            CardFlag.id.label("flag_id"),
            CardFlag.suspended,
            CardFlag.leech,
            CardFlag.buried_until,
        )
        .select_from(Question)
        .join(QuestionSet, QuestionSet.id == Question.set_id)
        .join(Role, Role.id == QuestionSet.role_id)
        .outerjoin(CardState, state)
        .outerjoin(CardFlag, flag)
        .where(or_(CardState.id.is_not(None), CardFlag.id.is_not(None)))
        .order_by(Role.slug, QuestionSet.slug, Question.position, Question.id)
    )
    for row in rows:
        card = {
            "question_id": row.uid,
            "role": row.role,
            "set": row.set,
            "question_key": row.key,
            "prompt": row.prompt,
        }
        # A card suspended before its first rating has no memory state: those fields are null.
        card |= {
            "state": row.state,
            "state_label": STATE_LABELS.get(row.state),
            "step": row.step,
            "stability": row.stability,
            "difficulty": row.difficulty,
            "due": iso(row.due),
            "last_review": iso(row.last_review),
            "reps": row.reps,
            "lapses": row.lapses,
            "introduced_at": iso(row.introduced_at),
        }
        if row.flag_id is not None:
            card |= {"suspended": row.suspended, "leech": row.leech, "buried_until": iso(row.buried_until)}
        yield card


def _review_rows(user_id: int) -> Result:
    """The user's review log, oldest first, with where each question lives."""
    return _stream(
        select(
            Review.id,
            Review.reviewed_at,
            Review.rating,
            Review.duration_ms,
            Review.state,
            Review.step,
            Review.stability,
            Review.difficulty,
            Review.due,
            Review.interval_seconds,
            Review.mode,
            Review.draft,
            Review.covered,
            Review.detected,
            Review.key_point_count,
            Review.prev_state,
            Review.attempt,
            Review.correct,
            Question.key,
            Question.uid,
            Question.category,
            QuestionSet.slug.label("set"),
            Role.slug.label("role"),
        )
        .join(Question, Question.id == Review.question_id)
        .join(QuestionSet, QuestionSet.id == Question.set_id)
        .join(Role, Role.id == QuestionSet.role_id)
        .where(Review.user_id == user_id)
        .order_by(Review.reviewed_at, Review.id)
    )


def _reviews(user_id: int) -> Iterator[dict]:
    """Every review, with the draft and the key points it covered (never its one-time token)."""
    for row in _review_rows(user_id):
        yield {
            "id": row.id,
            "question_id": row.uid,
            "role": row.role,
            "set": row.set,
            "question_key": row.key,
            "reviewed_at": iso(row.reviewed_at),
            "rating": row.rating,
            "duration_ms": row.duration_ms,
            "state": row.state,
            "step": row.step,
            "stability": row.stability,
            "difficulty": row.difficulty,
            "due": iso(row.due),
            "interval_seconds": row.interval_seconds,
            "mode": row.mode,
            "draft": row.draft,
            "covered": row.covered,
            "detected": row.detected,  # what the answer check found in the draft (None without one)
            "key_point_count": row.key_point_count,
            "prev_state": row.prev_state,
            "attempt": row.attempt,
            "correct": row.correct,
        }


def _mock_interviews(user_id: int) -> Iterator[dict]:
    """Mock interviews with their items, from one query (a mock with no items still appears)."""
    rows = _stream(
        select(
            MockInterview.id.label("mock_id"),
            MockInterview.created_at,
            MockInterview.finished_at,
            MockInterview.rated_at,
            MockInterview.seconds_per_question,
            MockInterview.categories,
            Role.slug.label("role"),
            MockItem.id.label("item_id"),
            MockItem.position,
            MockItem.draft,
            MockItem.rating,
            MockItem.covered,
            MockItem.started_at,
            MockItem.answered_at,
            MockItem.review_id,
            MockItem.attempt,
            Question.key,
            Question.uid,
            QuestionSet.slug.label("set"),
        )
        .join(Role, Role.id == MockInterview.role_id)
        .outerjoin(MockItem, MockItem.mock_id == MockInterview.id)
        .outerjoin(Question, Question.id == MockItem.question_id)
        .outerjoin(QuestionSet, QuestionSet.id == Question.set_id)
        .where(MockInterview.user_id == user_id)
        .order_by(MockInterview.created_at, MockInterview.id, MockItem.position)
    )
    for _mock_id, group in groupby(rows, key=lambda row: row.mock_id):
        items = list(group)
        first = items[0]
        yield {
            "role": first.role,
            "created_at": iso(first.created_at),
            "finished_at": iso(first.finished_at),
            "rated_at": iso(first.rated_at),
            "seconds_per_question": first.seconds_per_question,
            "categories": first.categories,
            "items": [
                {
                    "position": row.position,
                    "question_id": row.uid,
                    "set": row.set,
                    "question_key": row.key,
                    "draft": row.draft,
                    "rating": row.rating,
                    "covered": row.covered,
                    "started_at": iso(row.started_at),
                    "answered_at": iso(row.answered_at),
                    "review_id": row.review_id,
                    "attempt": row.attempt,
                }
                for row in items
                if row.item_id is not None
            ],
        }


def _reports(user_id: int) -> Iterator[dict]:
    """Problems the user reported on questions, with what came of them."""
    rows = db.session.execute(
        select(Report, Question.uid, Question.key)
        .join(Question, Question.id == Report.question_id)
        .where(Report.user_id == user_id)
        .order_by(Report.created_at, Report.id)
    )
    for report, uid, key in rows:
        yield {
            "question_id": uid,
            "question_key": key,
            "reason": report.reason,
            "comment": report.comment,
            "status": report.status,
            "created_at": iso(report.created_at),
            "resolved_at": iso(report.resolved_at),
            "resolution_note": report.resolution_note,
        }


def _recordings(user_id: int) -> Iterator[dict]:
    """Transcribed recordings, with the audio (base64) of those the user chose to keep."""
    from ..recordings.service import kept_audio

    yield from kept_audio(user_id)


def _sessions(user_id: int) -> Iterator[dict]:
    """Sign-ins: when and from which browser; never the token hash."""
    rows = db.session.execute(
        select(UserSession.created_at, UserSession.revoked_at, UserSession.user_agent)
        .where(UserSession.user_id == user_id)
        .order_by(UserSession.created_at, UserSession.id)
    )
    for created_at, revoked_at, user_agent in rows:
        yield {"created_at": iso(created_at), "revoked_at": iso(revoked_at), "user_agent": user_agent}


# -- CSV -------------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A value as CSV text that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def export_reviews_csv(user: User) -> Iterator[str]:
    """The review log as CSV, one row per review, with times in UTC and in the user's time zone."""
    local = zone(user.timezone)

    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        """One CSV record as text (the csv module writes to a file, so take it back out)."""
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_cell(value) for value in values)
        return buffer.getvalue()

    def lines() -> Iterator[str]:
        # A byte-order mark, so spreadsheets read the file as UTF-8 rather than a legacy code page.
        yield "\ufeff" + line(CSV_HEADER)
        for row in _review_rows(user.id):
            yield line(
                (
                    row.id,
                    row.reviewed_at.isoformat(timespec="milliseconds"),
                    row.reviewed_at.astimezone(local).isoformat(timespec="milliseconds"),
                    row.role,
                    row.set,
                    row.key,
                    row.category,
                    row.rating,
                    RATING_LABELS.get(row.rating),
                    round(row.duration_ms / 1000, 1),
                    STATE_LABELS.get(row.state, row.state),
                    row.stability,
                    row.difficulty,
                    row.due.isoformat(timespec="milliseconds"),
                    round(row.interval_seconds / 86400, 2),
                    row.mode,
                    None if row.covered is None else len(row.covered),
                    row.key_point_count,
                    row.draft,
                )
            )

    return _chunked(lines())
