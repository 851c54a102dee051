"""After a mock interview: each answer with its check, the ratings that become reviews, and scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, Select, case, func, update

from ..extensions import db
from ..models import (
    MockInterview,
    MockItem,
    Question,
    Review,
    User,
)
from ..practice.attempts import Attempt, stored
from ..practice.feedback import AnswerFeedback, answer_feedback, detected_points, role_language
from ..practice.rating import Token, record_rating, suggestions
from ..scheduling import RATING_LABELS

PAST_LIMIT = 50


# -- results and rating ---------------------------------------------------------------------------


def answer_seconds(item: MockItem) -> float | None:
    """How long the answer took, or None if the question was not answered."""
    if item.started_at is None or item.answered_at is None:
        return None
    return max(0.0, (item.answered_at - item.started_at).total_seconds())


def format_seconds(seconds: float | None) -> str:
    """Time taken as "2 min 5 s" (or "45 s")."""
    if seconds is None:
        return "not answered"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@dataclass
class ResultRow:
    """One question on the results page, with what the user chose (or submitted) so far."""

    item: MockItem
    covered: set[int] = field(default_factory=set)
    rating: int | None = None
    errors: list[str] = field(default_factory=list)
    feedback: AnswerFeedback | None = None  # what the detector found in the answer (before rating)

    @property
    def question(self) -> Question:
        """The question asked."""
        return self.item.question

    @property
    def reached(self) -> bool:
        """Shown during the interview; questions never reached are not rated."""
        return self.item.started_at is not None

    @property
    def seconds(self) -> float | None:
        """Seconds taken to answer, or None."""
        return answer_seconds(self.item)

    @property
    def time_taken(self) -> str:
        """Seconds taken, for people."""
        return format_seconds(self.seconds)

    @property
    def attempt(self) -> Attempt | None:
        """The exercise answer given during the interview, checked (None for recall questions)."""
        if not self.reached or self.question.kind == "recall":
            return None
        return stored(self.question, self.item.attempt)

    @property
    def suggestions(self) -> list[int]:
        """The suggested rating for 0, 1, … n key points covered (mock.js reads these)."""
        total = len(self.question.key_points)
        return suggestions(total, self.seconds, self.attempt)

    @property
    def coverage(self) -> int | None:
        """Share of the key points covered, in whole percent."""
        total = len(self.question.key_points)
        return round(100 * len(self.covered) / total) if total else None


def result_rows(mock: MockInterview) -> list[ResultRow]:
    """The saved coverage and ratings of each question; before rating, the key points the detector
    found in each answer, pre-ticked for the user to confirm."""
    rows = [ResultRow(item=item, covered=set(item.covered or []), rating=item.rating) for item in mock.items]
    if mock.rated_at is None:
        with_feedback(mock, rows, pre_tick=True)
    return rows


def with_feedback(mock: MockInterview, rows: list[ResultRow], *, pre_tick: bool = False) -> None:
    """Attach the detector's findings to each answered row (and tick them when `pre_tick`)."""
    language = None
    for row in rows:
        if not row.reached or not (row.item.draft or "").strip():
            continue
        language = language or role_language(mock.role_id)
        row.feedback = answer_feedback(row.question, row.item.draft, language)
        if pre_tick and row.feedback is not None and row.item.covered is None:
            row.covered = set(row.feedback.detected)


def read_ratings(mock: MockInterview, form) -> tuple[list[ResultRow], bool]:
    """The submitted ratings and covered key points per question, and whether all of them are valid."""
    rows = []
    valid = True
    for item in mock.items:
        row = ResultRow(item=item)
        rows.append(row)
        if not row.reached:
            continue
        total = len(item.question.key_points)
        for raw in form.getlist(f"covered-{item.id}"):
            index = _as_int(raw)
            if index is None or not 0 <= index < total:
                row.errors.append("Tick only the key points listed.")
                break
            row.covered.add(index)
        raw_rating = form.get(f"rating-{item.id}", "")
        if raw_rating != "":
            row.rating = _as_int(raw_rating)
            if row.rating not in RATING_LABELS:
                row.rating = None
                row.errors.append("Choose Again, Hard, Good or Easy.")
        valid = valid and not row.errors
    return rows, valid


def _as_int(raw: str) -> int | None:
    """A short form value as an int, or None."""
    try:
        return int(raw.strip()) if len(raw) < 10 else None
    except ValueError:
        return None


def rate_mock(user: User, mock: MockInterview, rows: list[ResultRow], now: datetime) -> None:
    """Record each rated question once as an FSRS review (mode "mock") and store it on the item.

    A question the user did not rate is not recorded (its schedule is left alone). The token nonce is
    per item, so a repeated or concurrent submit records nothing twice. record_rating commits once
    per question.
    """
    now_ms = int(now.timestamp() * 1000)
    for row in rows:
        if not row.reached or row.rating is None:
            continue
        item = row.item
        covered = sorted(row.covered)
        rating = row.rating
        token = Token(
            question_id=item.question_id,
            nonce=f"mock-{item.id}",
            shown_at_ms=int(item.started_at.timestamp() * 1000) if item.started_at else now_ms,
        )
        # Recomputed from the stored answer, never read from the form.
        language = role_language(mock.role_id) if (item.draft or "").strip() else None
        result = record_rating(
            user,
            row.question,
            token,
            rating,
            draft=item.draft,
            covered=covered,
            detected=detected_points(row.question, item.draft, language),
            mode="mock",
            attempt=row.attempt,
        )
        review_id = result.review.id if result.review is not None else None
        if review_id is None:
            review_id = db.session.scalar(db.select(Review.id).filter_by(token=token.nonce))
        item.rating, item.covered, item.review_id = rating, covered, review_id
        db.session.commit()
    db.session.execute(
        update(MockInterview)
        .where(MockInterview.id == mock.id, MockInterview.rated_at.is_(None))
        .values(rated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire(mock)  # the bulk UPDATE bypassed the loaded object


# -- past mocks and scores ------------------------------------------------------------------------


@dataclass
class MockSummary:
    """A mock interview in the list of past ones: size, status and score."""

    mock: MockInterview
    questions: int
    coverage: float | None
    rating: float | None

    @property
    def status(self) -> str:
        """In progress, awaiting your ratings, or rated."""
        if self.mock.rated_at is not None:
            return "rated"
        if self.mock.finished_at is not None:
            return "awaiting your ratings"
        return "in progress"

    @property
    def minutes(self) -> int:
        """Minutes allowed per question."""
        return self.mock.seconds_per_question // 60


def summaries() -> Select:
    """Mock interviews with their question count and, once rated, mean key-point coverage and rating."""
    # Only rated items have a coverage list; the CASE also keeps PostgreSQL from measuring a JSON null.
    coverage = case(
        (
            MockItem.rating.is_not(None),
            100.0
            * func.json_array_length(MockItem.covered)
            / func.nullif(func.json_array_length(Question.key_points), 0),
        )
    )
    return (
        db.select(
            MockInterview,
            func.count(MockItem.id),
            func.avg(coverage),
            func.avg(MockItem.rating),
        )
        .join(MockItem, MockItem.mock_id == MockInterview.id)
        .join(Question, Question.id == MockItem.question_id)
        .group_by(MockInterview.id)
        .order_by(MockInterview.created_at.desc(), MockInterview.id.desc())
    )


def _summary(row: Row) -> MockSummary:
    """A summaries() row as numbers (PostgreSQL averages come back as Decimal)."""
    mock, questions, coverage, rating = row
    return MockSummary(
        mock=mock,
        questions=int(questions),
        coverage=float(coverage) if coverage is not None else None,
        rating=float(rating) if rating is not None else None,
    )


def past_mocks(user: User, role_id: int, limit: int = PAST_LIMIT) -> list[MockSummary]:
    """This user's latest mock interviews for a role, newest first."""
    stmt = summaries().where(MockInterview.user_id == user.id, MockInterview.role_id == role_id)
    return [_summary(row) for row in db.session.execute(stmt.limit(limit))]


def mock_summary(mock: MockInterview) -> MockSummary:
    """One mock interview's count and scores."""
    return _summary(db.session.execute(summaries().where(MockInterview.id == mock.id)).one())
