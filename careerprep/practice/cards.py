"""One card and its user: finding it, suspending or burying it, its history, reports, the session tally."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func

from ..extensions import db
from ..models import CardFlag, CardState, Question, QuestionSet, Report, Review, Role, RolePlan, User, as_utc
from ..queries import SLUG, USER, card_join, role_is_visible, visible_questions
from .rating import set_flag


def question_in_role(question_id: int, role: Role) -> Question | None:
    """A question of this role by id (archived or unpublished ones too: a shown card can be rated)."""
    return db.session.scalar(
        db.select(Question)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(Question.id == question_id, QuestionSet.role_id == role.id)
    )


# Built once (every rating runs it) and executed with bound values.
_RATED_QUESTION = (
    db.select(Question, Role, RolePlan)
    .join(QuestionSet, Question.set_id == QuestionSet.id)
    .join(Role, QuestionSet.role_id == Role.id)
    .outerjoin(RolePlan, (RolePlan.role_id == Role.id) & (RolePlan.user_id == USER))
    .where(Question.id == bindparam("question_id"), Role.slug == SLUG, role_is_visible())
)


def question_role_and_plan(
    user: User, question_id: int, slug: str
) -> tuple[Question, Role, RolePlan | None] | None:
    """The rated question, its (visible) role and the user's interview plan for it, in one query."""
    row = db.session.execute(
        _RATED_QUESTION, {"user_id": user.id, "question_id": question_id, "slug": slug}
    ).first()
    return (row[0], row[1], row[2]) if row else None


def own_state(user: User, question_id: int) -> CardState | None:
    """The user's memory state for a question (None before the first rating)."""
    return db.session.scalar(db.select(CardState).filter_by(user_id=user.id, question_id=question_id))


def own_flag(user: User, question_id: int) -> CardFlag | None:
    """The user's suspend / bury / leech marks on a question, if any."""
    return db.session.scalar(db.select(CardFlag).filter_by(user_id=user.id, question_id=question_id))


def suspend(user: User, question: Question) -> str:
    """Suspend a card until the user unsuspends it; returns what to tell them. The caller commits."""
    set_flag(user.id, question.id, suspended=True)
    return "Card suspended. Unsuspend it from its history page."


def bury(user: User, question: Question, now: datetime) -> str:
    """Bury a card until the user's tomorrow; returns what to tell them. The caller commits."""
    set_flag(user.id, question.id, buried_until=user.day_start(now) + timedelta(days=1))
    return "Card buried until tomorrow."


def unsuspend(user: User, question_id: int) -> bool:
    """Bring a suspended, buried or leech card back; False when the user has no marks on it."""
    found = own_flag(user, question_id)
    if found is None:
        return False
    found.suspended = False
    found.leech = False
    found.buried_until = None
    return True


def history(user: User, question_id: int) -> list[Review]:
    """Every past attempt at a question, newest first."""
    return db.session.scalars(
        db.select(Review)
        .filter_by(user_id=user.id, question_id=question_id)
        .order_by(Review.reviewed_at.desc(), Review.id.desc())
    ).all()


def is_visible(question_id: int) -> bool:
    """True when learners can study the question (published, not archived)."""
    return db.session.scalar(visible_questions().where(Question.id == question_id)) is not None


def save_report(user: User, question: Question, reason: str, comment: str) -> None:
    """Report a question to the admins; one open report per person and question (updated, not piled up)."""
    existing = db.session.scalar(
        db.select(Report).filter_by(user_id=user.id, question_id=question.id, status="open")
    )
    if existing is None:
        db.session.add(Report(user_id=user.id, question_id=question.id, reason=reason, comment=comment))
    else:
        existing.reason, existing.comment = reason, comment


@dataclass
class SessionTally:
    """A drill session so far: cards rated, by rating, and the time spent answering."""

    started: datetime
    ratings: dict[int, int]
    seconds: int

    @property
    def cards(self) -> int:
        return sum(self.ratings.values())

    @property
    def time(self) -> str:
        """Time spent answering, for people: "45 s", "4 min 5 s", "1 h 2 min"."""
        minutes, secs = divmod(self.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"{hours} h {minutes} min"
        return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def session_tally(user: User, role: Role, started: datetime) -> SessionTally:
    """The user's ratings in this role since `started`, by rating, with the time they took."""
    rows = db.session.execute(
        db.select(Review.rating, func.count(Review.id), func.coalesce(func.sum(Review.duration_ms), 0))
        .join(Question, Question.id == Review.question_id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(Review.user_id == user.id, Review.reviewed_at >= started, QuestionSet.role_id == role.id)
        .group_by(Review.rating)
    ).all()
    return SessionTally(
        started,
        {int(r): int(n) for r, n, _ in rows},
        round(sum(int(ms) for _, _, ms in rows) / 1000),
    )


def next_due(user: User, role: Role, now: datetime) -> datetime | None:
    """When the user's next card in the role falls due (None: nothing scheduled)."""
    due = db.session.scalar(
        visible_questions(role.id)
        .with_only_columns(func.min(CardState.due))
        .join(CardState, card_join(user.id))
        .where(CardState.due > now)
    )
    return as_utc(due) if due else None
