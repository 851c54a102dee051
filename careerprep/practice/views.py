"""The drill: one card at a time, reveal in place, check key points, rate with FSRS, undo.

Views parse the request and render; what comes next is practice.queue, rating is practice.rating, and
one card's marks, history and reports are practice.cards.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user, login_required

from .. import plans
from ..errors import render_error
from ..exercises import KINDS, units_like
from ..extensions import db
from ..htmx import after_write, render
from ..models import Question, Role, RolePlan, utc_now, write_transaction
from ..queries import visible_questions, visible_role_and_plan
from ..scheduling import RATING_LABELS
from ..web import int_id
from . import drill_session
from .attempts import Attempt, AttemptError, chosen_lines, read_attempt
from .blueprint import bp
from .cards import (
    bury,
    next_due,
    own_state,
    question_in_role,
    question_role_and_plan,
    suspend,
)
from .cards import (
    unsuspend as unsuspend_card,
)
from .feedback import answer_feedback, detected_points, role_language
from .queue import MODES, Filters, NextCard, next_card, queue_counts
from .rating import (
    LEECH_MESSAGE,
    MAX_DRAFT,
    interval_previews,
    issue_token,
    read_token,
    record_rating,
    suggestion_rule,
    suggestions,
    undo_rating,
)


def _role_and_plan(slug: str) -> tuple[Role, RolePlan | None]:
    role, plan = visible_role_and_plan(slug, current_user.id)
    if role is None:
        abort(404)
    return role, plan


def _mode_and_filters(values) -> tuple[str, Filters]:
    mode = values.get("mode", "due")
    return (mode if mode in MODES else "due"), Filters.from_request(values)


def _drill_url(role: Role, mode: str, filters: Filters) -> str:
    """The drill URL for a mode and filters (plain for the default due queue)."""
    return url_for("practice.drill", slug=role.slug, mode=None if mode == "due" else mode, **filters.params())


def _page_context(role: Role, plan: RolePlan | None, now: datetime, mode: str) -> dict:
    """What only the full page needs: focus choices, readiness and pace for an interview date."""
    context = {"categories": [], "tags": [], **plans.plan_context(current_user, role, plan, now)}
    if mode == "focus":
        rows = db.session.execute(
            visible_questions(role.id).with_only_columns(Question.category, Question.tags)
        ).all()
        context["categories"] = sorted({c for c, _ in rows})
        context["tags"] = sorted({t for _, tags in rows for t in (tags or [])})
    return context


def _card(role: Role, plan: RolePlan | None, filters: Filters, now: datetime, **context) -> Response:
    """The drill page, or for htmx the card alone (`context` carries the card and its mode)."""
    return render(
        "practice/drill.html",
        "practice/_card.html",
        page_context=lambda: _page_context(role, plan, now, context["mode"]),
        role=role,
        plan=plan,
        filters=filters,
        now=now,
        undo=drill_session.undo_top(),
        **context,
    )


def _render_card(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    announce: str = "",
    status: int = 200,
    flagged: dict | None = None,
) -> Response:
    """The next card's front (or the done card), as a page or an htmx fragment."""
    now = utc_now()
    drill_session.touch(role, now)
    item = next_card(current_user, role, now, mode, filters, plan)
    token = issue_token(current_user, item.question, now, item.state) if item.question else None
    return _card(
        role,
        plan,
        filters,
        now,
        status=status,
        item=item,
        counts=item.counts,
        flagged=flagged,
        side="front",
        token=token,
        announce=announce,
        mode=item.mode,
        summary=drill_session.tally(role) if item.question is None else None,
        **(_exercise_context(item.question) if item.question is not None else {}),
    )


@bp.get("/roles/<slug>/drill")
@login_required
def drill(slug: str) -> Response:
    """Show the next card; with ?reveal=<id>&token=… show that card's answer and rating buttons."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.args)
    reveal_id = int_id(request.args.get("reveal"))
    if reveal_id is None:
        return _render_card(role, plan, mode, filters)
    return _reveal(role, plan, mode, filters, reveal_id, request.args.get("token"), draft=None)


@bp.post("/roles/<slug>/drill/reveal")
@login_required
def reveal(slug: str) -> Response:
    """Reveal after drafting an answer or answering an exercise: the draft or the attempt is shown (and
    checked) beside the model answer. An attempt that cannot be checked shows the front again, with why."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    draft = request.form.get("draft", "")[:MAX_DRAFT]
    question_id = token.question_id if token else -1
    return _reveal(role, plan, mode, filters, question_id, request.form.get("token"), draft, request.form)


def _front_again(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    question: Question,
    raw_token: str,
    error: str,
) -> Response:
    """The same card's front (same token, so the clock keeps running), refilled, with what to change."""
    now = utc_now()
    item = NextCard(
        question, own_state(current_user, question.id), queue_counts(current_user, role, now, filters), mode
    )
    return _card(
        role,
        plan,
        filters,
        now,
        status=422,
        item=item,
        counts=item.counts,
        side="front",
        token=raw_token,
        announce=error,
        mode=mode,
        error=error,
        values=request.form,
        chosen=chosen_lines(request.form),
        **_exercise_context(question),
    )


def _exercise_context(question: Question) -> dict:
    """What a card's kind needs on its front: the units an estimate may be given in."""
    estimate = (question.exercise or {}).get("estimate")
    return {"units": units_like(estimate["unit"]) if estimate else []}


def _reveal(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    question_id: int,
    raw_token: str | None,
    draft: str | None,
    values=None,
) -> Response:
    """The back of a card: the check of an exercise's attempt, the model answer, the key-point
    checklist and the rating buttons. `values` is the posted form (None for the plain reveal link)."""
    token = read_token(raw_token, current_user)
    matches = token is not None and token.question_id == question_id
    question = question_in_role(question_id, role) if matches else None
    if question is None:
        return _render_card(role, plan, mode, filters, announce="That card expired. Here is the next one.")
    try:
        attempt = read_attempt(question, values if values is not None else {})
    except AttemptError as exc:
        if values is None:  # the reveal link of a design card, which has no estimate: reveal without one
            attempt = None
        else:
            return _front_again(role, plan, mode, filters, question, raw_token, str(exc))
    now = utc_now()
    state = own_state(current_user, question.id)
    answer_seconds = max(0, int(now.timestamp() - token.shown_at_ms / 1000))
    table = suggestions(len(question.key_points), answer_seconds, attempt)
    feedback = answer_feedback(question, draft, role_language(role.id)) if draft and draft.strip() else None
    # A checked exercise suggests one rating whatever is ticked: shown at once, no JavaScript needed. A
    # draft's pre-ticked points suggest the rating their count gives (app.js follows later changes).
    checked = len(set(table)) == 1 and KINDS[question.kind].checked
    if checked:
        suggested = table[0]
    else:
        suggested = table[min(len(feedback.detected), len(table) - 1)] if feedback else None
    return _card(
        role,
        plan,
        filters,
        now,
        question=question,
        state=state,
        side="back",
        token=raw_token,
        draft=draft,
        answer_seconds=answer_seconds,
        attempt=attempt,
        suggestions=table,
        suggested=suggested,
        suggested_by_check=checked,
        feedback=feedback,
        suggestion_rule=suggestion_rule(question.kind),
        previews=interval_previews(current_user, question, state, now, role),
        counts=queue_counts(current_user, role, now, filters),
        mode=mode,
        announce=(feedback.message + ", then rate.")
        if feedback
        else "Answer shown. Tick the key points you covered, then rate.",
        item=None,
    )


@bp.post("/roles/<slug>/drill")
@login_required
def rate(slug: str) -> Response:
    """Record a rating (once per card showing) and move on to the next card."""
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    found = question_role_and_plan(current_user, token.question_id, slug) if token else None
    if found is None:
        _role_and_plan(slug)  # 404 for an unknown role; a known role with a bad token is a 400 below
        abort(400)
    question, role, plan = found
    covered = _covered(request.form.getlist("covered"), question)
    try:
        attempt = _carried_attempt(question)
    except AttemptError as exc:
        return render_error(422, str(exc))
    draft = request.form.get("draft")[:MAX_DRAFT] if "draft" in request.form else None
    # What the detector found, recomputed from the draft the form carried (a posted set is never trusted).
    detected = detected_points(question, draft, role_language(role.id)) if draft and draft.strip() else None
    raw = request.form.get("rating", "")
    if raw == "auto" and covered is not None:
        seconds = request.form.get("answer_seconds", "")
        seconds = int(seconds) if seconds.isdigit() and len(seconds) < 8 else None  # 0 s is quick, too
        rating = suggestions(len(question.key_points), seconds, attempt)[len(covered)]
    else:
        rating = int(raw) if raw in ("1", "2", "3", "4") else None
    if rating is None or covered is None:
        abort(400)
    result = record_rating(
        current_user,
        question,
        token,
        rating,
        draft=draft,
        # Coverage is recorded when the checklist was used: a box ticked, "rate from my checklist", or
        # boxes the detector pre-ticked (unticking them all is a confirmation too).
        covered=covered if "checklist" in request.form and (covered or raw == "auto" or detected) else None,
        detected=detected,
        mode=mode,
        due_cap=plans.due_cap(current_user, plan, utc_now()),
        attempt=attempt,
        role=role,
    )
    if result.review is not None:
        drill_session.push_undo(result.review.id)
    status, warn = 200, None
    if result.stale:
        announce = "This card was already rated in another tab; nothing was recorded. Here is your next card."
        status, warn = 409, announce
    elif result.duplicate:
        announce = "Already recorded. Next card."
    else:
        announce = f"Rated {RATING_LABELS[rating]}. Next card."
    if result.leech:
        announce = warn = LEECH_MESSAGE + " " + announce
    # The rating is committed: the next card is only read (record_rating ends its transaction).
    return _next_card(role, plan, mode, filters, announce, warn, category="warning", status=status)


def _next_card(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    announce: str,
    message: str | None,
    category: str,
    status: int = 200,
) -> Response:
    """After a write in the drill: htmx gets the next card (announcing what happened); a browser is
    sent back to the drill, with `message` flashed when there is one."""
    return after_write(
        _drill_url(role, mode, filters),
        message,
        fragment=lambda: _render_card(role, plan, mode, filters, announce=announce, status=status),
        category=category,
    )


def _carried_attempt(question: Question) -> Attempt | None:
    """The attempt the back of a card carries to the rating, checked again here (never trusted)."""
    if question.kind == "recall" or (question.kind == "design" and "estimate" not in request.form):
        return None
    return read_attempt(question, request.form)


def _covered(values: list[str], question: Question) -> list[int] | None:
    """Ticked key-point indexes, or None if any is not a valid index."""
    picked = set()
    for value in values:
        if not value.isdigit() or int(value) >= len(question.key_points):
            return None
        picked.add(int(value))
    return sorted(picked)


@bp.post("/roles/<slug>/drill/undo")
@login_required
def undo(slug: str) -> Response:
    """Undo the last rating: remove the review and restore the card's previous state exactly."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    wanted = int_id(request.form.get("review_id"))
    announce = "Nothing to undo."
    if drill_session.pop_undo(wanted):
        announce = undo_rating(current_user.id, wanted)
    return _next_card(role, plan, mode, filters, announce, announce, category="info")


@bp.post("/roles/<slug>/drill/flag")
@login_required
def flag(slug: str) -> Response:
    """Suspend a card (until you unsuspend it) or bury it until tomorrow."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    action = request.form.get("action")
    question = question_in_role(token.question_id, role) if token else None
    if question is None or action not in ("suspend", "bury"):
        abort(400)
    with write_transaction():
        if action == "suspend":
            announce = suspend(current_user, question)
        else:
            announce = bury(current_user, question, utc_now())
        db.session.commit()
    flagged = {"message": announce, "question_id": question.id}
    return after_write(
        _drill_url(role, mode, filters),
        announce,
        fragment=lambda: _render_card(role, plan, mode, filters, announce=announce, flagged=flagged),
        category="info",
    )


@bp.post("/roles/<slug>/drill/unflag")
@login_required
def unflag(slug: str) -> Response:
    """Undo a suspend or bury from the drill: the card goes back into the queue."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    question_id = int_id(request.form.get("question_id"))
    if question_id is None or not unsuspend_card(current_user, question_id):
        abort(404)
    db.session.commit()
    announce = "Card is back in your queue."
    return _next_card(role, plan, mode, filters, announce, announce, category="info")


@bp.get("/roles/<slug>/drill/summary")
@login_required
def summary(slug: str) -> str:
    """The session so far: cards done, ratings, time, and when the next card is due."""
    role, _plan = _role_and_plan(slug)
    now = utc_now()
    return render_template(
        "practice/summary.html",
        role=role,
        summary=drill_session.tally(role),
        next_due=next_due(current_user, role, now),
        now=now,
    )


@bp.post("/roles/<slug>/drill/summary")
@login_required
def finish(slug: str) -> Response:
    """End this drill session; the next drill starts a fresh summary."""
    role, _plan = _role_and_plan(slug)
    drill_session.end(role)
    return after_write(url_for("catalog.role", slug=role.slug), "Session finished. Nice work.")
