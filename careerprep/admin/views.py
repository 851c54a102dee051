"""Admin overview: roles, sets and question counts."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import false, func, true

from ..extensions import db
from ..models import Question, QuestionSet, Role
from .blueprint import bp


def _overview() -> list[tuple[Role, list[tuple[QuestionSet, int, int]]]]:
    """Roles with their sets: (set, live question count, archived count), in one query."""
    rows = db.session.execute(
        db.select(
            Role,
            QuestionSet,
            func.count(Question.id).filter(Question.archived == false()),
            func.count(Question.id).filter(Question.archived == true()),
        )
        .outerjoin(QuestionSet, QuestionSet.role_id == Role.id)
        .outerjoin(Question, Question.set_id == QuestionSet.id)
        .group_by(Role.id, QuestionSet.id)
        .order_by(Role.title, QuestionSet.id)
    ).all()
    grouped: dict[int, tuple[Role, list]] = {}
    for role, qset, live, archived in rows:
        entry = grouped.setdefault(role.id, (role, []))
        if qset is not None:  # a role without sets yet still shows
            entry[1].append((qset, live, archived))
    return list(grouped.values())


@bp.get("/")
def index() -> str:
    """Roles, sets and question counts; new banks come in through the import page (with a preview)."""
    return render_template("admin/index.html", roles=_overview())
