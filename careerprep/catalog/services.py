"""What the catalogue shows: roles with counts, and one role's sets, categories and your progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, func

from ..extensions import db
from ..models import CardState, Question, QuestionSet, Role, User
from ..queries import NOW, USER, card_join, question_counts_by_role, visible_questions


@dataclass
class RoleCard:
    role: Role
    questions: int
    due: int = 0
    studied: int = 0
    featured: bool = False

    @property
    def unseen(self) -> int:
        return max(0, self.questions - self.studied)


# The catalogue's two statements are built once and run with bound values (it is a busy page).
_ROLE_COUNTS = question_counts_by_role().order_by(Role.title)
_USER_PROGRESS = (
    visible_questions()
    .join(CardState, card_join(USER))
    .with_only_columns(
        QuestionSet.role_id,
        func.count(CardState.id),
        func.coalesce(func.sum(case((CardState.due <= NOW, 1), else_=0)), 0),
    )
    .group_by(QuestionSet.role_id)
)


def catalogue(user: User | None, now: datetime) -> list[RoleCard]:
    """Every role with a published set, its question count, and (signed in) your due and new."""
    rows = db.session.execute(_ROLE_COUNTS).all()
    featured = current_app.config["FEATURED_ROLES"]
    cards = {role.id: RoleCard(role, int(count), featured=role.slug in featured) for role, count in rows}
    if user is not None and cards:
        progress = db.session.execute(_USER_PROGRESS, {"user_id": user.id, "now": now}).all()
        for role_id, studied, due in progress:
            if role_id in cards:
                cards[role_id].studied, cards[role_id].due = int(studied), int(due)
    # The featured roles first (in the configured order), then the rest by title.
    return sorted(cards.values(), key=lambda c: featured.index(c.role.slug) if c.featured else len(featured))


@dataclass
class RoleOverview:
    sets: list[tuple[QuestionSet, int]]
    categories: list[tuple[str, int]]
    total: int
    by_state: dict[int, int] = field(default_factory=dict)
    due: int = 0

    @property
    def studied(self) -> int:
        return sum(self.by_state.values())

    @property
    def unseen(self) -> int:
        return max(0, self.total - self.studied)


def role_overview(role: Role, user: User | None, now: datetime) -> RoleOverview:
    """A role's published sets and categories with counts, and your cards by state."""
    sets = db.session.execute(
        visible_questions(role.id)
        .with_only_columns(QuestionSet, func.count(Question.id))
        .group_by(QuestionSet.id)
        .order_by(QuestionSet.id)
    ).all()
    categories = db.session.execute(
        visible_questions(role.id)
        .with_only_columns(Question.category, func.count(Question.id))
        .group_by(Question.category)
        .order_by(Question.category)
    ).all()
    overview = RoleOverview(
        sets=[(s, n) for s, n in sets],
        categories=[(c, n) for c, n in categories],
        total=sum(n for _, n in sets),
    )
    if user is not None:
        for state, count, due in db.session.execute(
            visible_questions(role.id)
            .join(CardState, card_join(user.id))
            .with_only_columns(
                CardState.state,
                func.count(CardState.id),
                func.coalesce(func.sum(case((CardState.due <= now, 1), else_=0)), 0),
            )
            .group_by(CardState.state)
        ):
            overview.by_state[int(state)] = int(count)
            overview.due += int(due)
    return overview
