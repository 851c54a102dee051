"""The drill: one card at a time, reveal in place, rate with FSRS."""

from __future__ import annotations

from flask import Response, abort, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import redirect_to, render
from ..models import CardState, Question, QuestionSet, Role, utc_now
from ..queries import visible_role
from ..scheduling import RATING_LABELS
from . import bp
from .services import (
    interval_previews,
    issue_token,
    next_card,
    read_token,
    record_rating,
)


def _role_or_404(slug: str) -> Role:
    role = visible_role(slug)
    if role is None:
        abort(404)
    return role


def _question_in_role(question_id: int, role: Role) -> Question | None:
    """A question of this role by id (archived or unpublished ones too: a shown card can be rated)."""
    return db.session.scalar(
        db.select(Question)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(Question.id == question_id, QuestionSet.role_id == role.id)
    )


def _render_card(role: Role, announce: str = "", status: int = 200) -> Response:
    """The next card's front (or the done card), as a page or an htmx fragment."""
    now = utc_now()
    item = next_card(current_user, role, now)
    token = issue_token(current_user, item.question, now) if item.question else None
    return render(
        "practice/drill.html",
        "practice/_card.html",
        status=status,
        role=role,
        item=item,
        side="front",
        token=token,
        announce=announce,
        now=now,
    )


@bp.get("/roles/<slug>/drill")
@login_required
def drill(slug: str) -> Response:
    """Show the next card; with ?reveal=<id>&token=… show that card's answer and rating buttons."""
    role = _role_or_404(slug)
    reveal = request.args.get("reveal", type=int)
    if reveal is None:
        return _render_card(role)
    token = read_token(request.args.get("token"), current_user)
    question = _question_in_role(reveal, role) if token and token.question_id == reveal else None
    if question is None:
        return _render_card(role, announce="That card expired. Here is the next one.")
    now = utc_now()
    item = next_card(current_user, role, now)
    state = item.state if item.question is question else _own_state(question)
    return render(
        "practice/drill.html",
        "practice/_card.html",
        role=role,
        item=item,
        question=question,
        state=state,
        side="back",
        token=request.args["token"],
        previews=interval_previews(current_user, question, state, now),
        announce="Answer shown. Rate how well you knew it.",
        now=now,
    )


def _own_state(question: Question) -> CardState | None:
    return db.session.scalar(db.select(CardState).filter_by(user_id=current_user.id, question_id=question.id))


@bp.post("/roles/<slug>/drill")
@login_required
def rate(slug: str) -> Response:
    """Record a rating (once per card showing) and move on to the next card."""
    role = _role_or_404(slug)
    rating = request.form.get("rating", type=int)
    token = read_token(request.form.get("token"), current_user)
    if rating not in RATING_LABELS or token is None:
        abort(400)
    question = _question_in_role(token.question_id, role)
    if question is None:
        abort(400)
    result = record_rating(current_user, question, token, rating)
    if not request.htmx:
        return redirect_to(url_for("practice.drill", slug=role.slug))
    announce = (
        "Already recorded. Next card." if result.duplicate else f"Rated {RATING_LABELS[rating]}. Next card."
    )
    return _render_card(role, announce=announce)
