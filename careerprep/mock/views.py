"""Mock interviews: start one, answer each question against the clock, then reveal, rate and score."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_login import current_user, login_required

from ..exercises import units_like
from ..extensions import db
from ..htmx import after_write, redirect_to, render
from ..localtime import zone
from ..models import MockInterview, Role, utc_now
from ..practice.attempts import Attempt, AttemptError, chosen_lines, read_attempt
from ..queries import visible_role
from ..recordings.service import mock_deliveries
from ..web import int_id
from .forms import MAX_MINUTES, MAX_QUESTIONS, MockForm, clamp
from .results import ResultRow, mock_summary, past_mocks, rate_mock, read_ratings, result_rows, with_feedback
from .services import (
    BEHAVIOURAL,
    create_mock,
    current_item,
    finish_mock,
    get_own_mock,
    is_finished,
    mark_started,
    pick_questions,
    remaining_seconds,
    role_categories,
    save_answer,
)

bp = Blueprint("mock", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every mock interview page needs a signed-in user."""


def _role_or_404(slug: str) -> Role:
    """A role with published questions, by slug; anything else is a 404."""
    role = visible_role(slug)
    if role is None:
        abort(404)
    return role


def _own_mock_or_404(mock_id: int) -> MockInterview:
    """The signed-in user's mock interview; anyone else's is a 404."""
    mock = get_own_mock(current_user, mock_id)
    if mock is None:
        abort(404)
    return mock


def _item_id() -> int | None:
    """The question the submitted form belongs to (None if missing or not a number)."""
    return int_id(request.form.get("item_id"))


# -- start ----------------------------------------------------------------------------------------


def _render_start(
    role: Role, form: MockForm, categories: list[tuple[str, int]], status: int = 200
) -> Response:
    """The start page (or, for htmx, just its form) with the past mock interviews."""
    return render(
        "mock/start.html",
        "mock/_start_form.html",
        status=status,
        role=role,
        form=form,
        has_behavioural=any(name == BEHAVIOURAL for name, _count in categories),
        past=past_mocks(current_user, role.id),
        tz=zone(current_user.timezone),
    )


@bp.get("/roles/<slug>/mock")
def start(slug: str) -> Response:
    """The start form (length, time and mix) and your past mock interviews for this role."""
    role = _role_or_404(slug)
    form = MockForm(
        questions=clamp(current_user.mock_questions, 1, MAX_QUESTIONS, 5),
        minutes=clamp(current_user.mock_minutes, 1, MAX_MINUTES, 6),
    )
    categories = role_categories(role.id)
    form.set_categories(categories)
    return _render_start(role, form, categories)


@bp.post("/roles/<slug>/mock")
def create(slug: str) -> Response:
    """Pick fresh questions for the chosen length and mix, and start the interview."""
    role = _role_or_404(slug)
    form = MockForm()
    categories = role_categories(role.id)
    form.set_categories(categories)
    if not form.validate_on_submit():
        return _render_start(role, form, categories, status=422)
    chosen = list(dict.fromkeys(form.categories.data or []))
    has_behavioural = any(name == BEHAVIOURAL for name, _count in categories)
    behavioural = form.behavioural.data and has_behavioural
    questions = pick_questions(current_user, role.id, form.questions.data, chosen, behavioural)
    if not questions:
        form.categories.errors.append(
            "No questions match that mix (suspended questions are left out). Choose other categories."
        )
        return _render_start(role, form, categories, status=422)
    mock = create_mock(current_user, role.id, questions, form.minutes.data, chosen)
    db.session.commit()
    if len(questions) < form.questions.data:
        flash(
            f"Only {len(questions)} question{'s' if len(questions) != 1 else ''} matched your choices, "
            f"so this mock interview has {len(questions)}.",
            "info",
        )
    return redirect_to(url_for("mock.show", mock_id=mock.id))


# -- answering ------------------------------------------------------------------------------------


def _render_question(mock: MockInterview, announce: str = "", error: str | None = None) -> Response:
    """The current question with its clock, as a page or an htmx fragment; results once finished.

    With `error` (an answer that cannot be saved), the form comes back refilled with a 422."""
    item = current_item(mock)
    if item is None:
        return redirect_to(url_for("mock.results", mock_id=mock.id))
    now = utc_now()
    mark_started(item, now)
    estimate = (item.question.exercise or {}).get("estimate")
    return render(
        "mock/show.html",
        "mock/_question.html",
        status=422 if error else 200,
        mock=mock,
        role=db.session.get(Role, mock.role_id),
        item=item,
        q=item.question,
        total=len(mock.items),
        remaining=remaining_seconds(mock, item, now),
        announce=error or announce,
        error=error,
        values=request.form if error else None,
        chosen=chosen_lines(request.form) if error else [],
        units=units_like(estimate["unit"]) if estimate else [],
    )


def _posted_attempt(mock: MockInterview) -> Attempt | None:
    """The exercise answer posted for the current question (None when the form is for another one)."""
    item = current_item(mock)
    if item is None or item.id != _item_id():
        return None
    return read_attempt(item.question, request.form, estimate_required=False)


@bp.get("/mock/<int:mock_id>")
def show(mock_id: int) -> Response:
    """The current question and its countdown (no answers until the end)."""
    return _render_question(_own_mock_or_404(mock_id))


@bp.post("/mock/<int:mock_id>/answer")
def answer(mock_id: int) -> Response:
    """Save the answer to the current question and move on (a repeated submit only moves on)."""
    mock = _own_mock_or_404(mock_id)
    try:
        attempt = _posted_attempt(mock)
    except AttemptError as exc:
        return _render_question(mock, error=str(exc))
    saved = save_answer(mock, _item_id(), request.form.get("draft"), utc_now(), attempt)
    db.session.commit()

    def next_question() -> Response:
        fresh = _own_mock_or_404(mock_id)
        item = current_item(fresh)
        announce = f"Question {item.position} of {len(fresh.items)}." if item else ""
        return _render_question(fresh, announce=("Answer saved. " if saved else "") + announce)

    return after_write(url_for("mock.show", mock_id=mock.id), fragment=next_question)


@bp.post("/mock/<int:mock_id>/finish")
def finish(mock_id: int) -> Response:
    """End the interview now; questions not reached stay unanswered."""
    mock = _own_mock_or_404(mock_id)
    try:
        attempt = _posted_attempt(mock)
    except AttemptError as exc:
        return _render_question(mock, error=str(exc))
    finish_mock(mock, _item_id(), request.form.get("draft"), utc_now(), attempt)
    db.session.commit()
    return redirect_to(url_for("mock.results", mock_id=mock.id))


# -- results --------------------------------------------------------------------------------------


def _render_results(mock: MockInterview, rows: list[ResultRow], status: int = 200) -> Response:
    """The results page (or, for htmx, its body): answers, model answers, ratings or the score."""
    return render(
        "mock/results.html",
        "mock/_results.html",
        status=status,
        mock=mock,
        role=db.session.get(Role, mock.role_id),
        rows=rows,
        summary=mock_summary(mock) if mock.rated_at else None,
        deliveries=mock_deliveries(mock),
    )


@bp.get("/mock/<int:mock_id>/results")
def results(mock_id: int) -> Response:
    """Each answer beside the model answer and key points, to rate; the score once rated."""
    mock = _own_mock_or_404(mock_id)
    if not is_finished(mock):
        return redirect_to(url_for("mock.show", mock_id=mock.id))
    return _render_results(mock, result_rows(mock))


@bp.post("/mock/<int:mock_id>/rate")
def rate(mock_id: int) -> Response:
    """Record every rating as a review, once; any invalid value writes nothing."""
    mock = _own_mock_or_404(mock_id)
    if not is_finished(mock):
        return redirect_to(url_for("mock.show", mock_id=mock.id))
    if mock.rated_at is not None:
        return redirect_to(url_for("mock.results", mock_id=mock.id))
    rows, valid = read_ratings(mock, request.form)
    if not valid:
        with_feedback(mock, rows)  # the highlights again; the ticks stay as sent
        return _render_results(mock, rows, status=422)
    rate_mock(current_user, mock, rows, utc_now())
    flash("Ratings saved. Each question is scheduled for review.", "success")
    return redirect_to(url_for("mock.results", mock_id=mock_id))
