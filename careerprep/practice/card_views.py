"""One card's own pages: its history, one attempt in full, reporting it, putting it back in the queue."""

from __future__ import annotations

from flask import Response, abort, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import after_write, safe_next
from ..localtime import zone
from ..models import Question, Review, utc_now, write_transaction
from ..queries import visible_questions
from .attempts import stored, summary
from .blueprint import bp
from .cards import history as card_history
from .cards import is_visible, own_flag, own_state, save_report
from .cards import unsuspend as unsuspend_card
from .forms import ReportForm


@bp.post("/questions/<int:question_id>/unsuspend")
@login_required
def unsuspend(question_id: int) -> Response:
    """Bring a suspended or buried card back into the queue."""
    if not unsuspend_card(current_user, question_id):
        abort(404)
    db.session.commit()
    return after_write(url_for("practice.history", question_id=question_id), "Card is back in your queue.")


@bp.get("/questions/<int:question_id>/history")
@login_required
def history(question_id: int) -> str:
    """Every past attempt at a question: draft, rating, key points covered and date."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    reviews = card_history(current_user, question_id)
    if not reviews and not is_visible(question_id):
        abort(404)
    return render_template(
        "practice/history.html",
        question=question,
        reviews=reviews,
        state=own_state(current_user, question_id),
        flag=own_flag(current_user, question_id),
        tz=zone(current_user.timezone),
        now=utc_now(),
        attempt_summary=lambda question, review: summary(question, review.attempt, review.correct),
    )


@bp.route("/questions/<int:question_id>/report", methods=["GET", "POST"])
@login_required
def report(question_id: int) -> Response:
    """Flag a question as wrong, unclear or a duplicate, with a comment, for the admins."""
    question = db.session.scalar(visible_questions().where(Question.id == question_id))
    if question is None:
        abort(404)
    form = ReportForm()
    back = safe_next(request.values.get("next", "")) or url_for(
        "catalog.role", slug=question.question_set.role.slug
    )
    if form.validate_on_submit():
        with write_transaction():
            save_report(current_user, question, form.reason.data, form.comment.data or "")
            db.session.commit()
        return after_write(back, "Thanks: an admin will look at this question.")
    status = 422 if form.is_submitted() else 200
    return make_response(
        render_template("practice/report.html", question=question, form=form, back=back), status
    )


@bp.get("/reviews/<int:review_id>")
@login_required
def attempt(review_id: int) -> str:
    """One past attempt in full: what you typed or chose, the check, the rating and the key points ticked.
    Another user's review is a 404, like a review that does not exist."""
    review = db.session.get(Review, review_id)
    if review is None or review.user_id != current_user.id:
        abort(404)
    question = db.session.get(Question, review.question_id)
    return render_template(
        "practice/attempt.html",
        review=review,
        q=question,
        attempt=stored(question, review.attempt),
        tz=zone(current_user.timezone),
    )
