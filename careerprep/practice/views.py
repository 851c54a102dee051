"""The drill: one card at a time, reveal in place, check key points, rate with FSRS, undo.

Views parse the request and render; what comes next is practice.queue, rating is practice.rating, and
one card's marks, history and reports are practice.cards.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, make_response, render_template, request, session, url_for
from flask_login import current_user, login_required

from .. import plans
from ..extensions import db
from ..htmx import after_write, render, safe_next
from ..localtime import zone
from ..models import Question, Role, RolePlan, utc_now, write_transaction
from ..queries import visible_questions, visible_role_and_plan
from ..scheduling import RATING_LABELS
from ..web import int_id
from .cards import (
    SessionTally,
    bury,
    is_visible,
    next_due,
    own_flag,
    own_state,
    question_in_role,
    question_role_and_plan,
    save_report,
    session_tally,
    suspend,
)
from .cards import (
    history as card_history,
)
from .cards import (
    unsuspend as unsuspend_card,
)
from .forms import ReportForm
from .queue import MODES, Filters, next_card, queue_counts
from .rating import (
    LEECH_MESSAGE,
    MAX_DRAFT,
    SUGGESTION_RULE,
    interval_previews,
    issue_token,
    read_token,
    record_rating,
    suggest_rating,
    suggestions,
    undo_rating,
)

bp = Blueprint("practice", __name__)

UNDO_DEPTH = 20
SESSION_IDLE = timedelta(hours=3)
SESSION_TOUCH = timedelta(minutes=1)


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


def _touch_session(role: Role, now: datetime) -> None:
    """Start (or continue) this role's drill session, which the summary reports on.

    "last" moves at most once a minute: the cookie is not re-signed and re-sent for every card.
    """
    sessions = session.setdefault("drill", {})
    entry = sessions.get(role.slug)
    last = datetime.fromisoformat(entry["last"]) if entry else None
    if entry is not None and now - last < SESSION_TOUCH:
        return
    if entry is None or now - last > SESSION_IDLE:
        entry = {"started": now.isoformat()}
    entry["last"] = now.isoformat()
    sessions[role.slug] = entry
    session.modified = True


def _session_tally(role: Role) -> SessionTally | None:
    """This drill session's cards, ratings and time, since it started."""
    entry = (session.get("drill") or {}).get(role.slug)
    if not entry:
        return None
    return session_tally(current_user, role, datetime.fromisoformat(entry["started"]))


def _undo_top() -> int | None:
    stack = session.get("undo") or []
    return stack[-1] if stack else None


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
        undo=_undo_top(),
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
    _touch_session(role, now)
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
        summary=_session_tally(role) if item.question is None else None,
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
    """Reveal after drafting an answer: the draft is shown beside the model answer."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    draft = request.form.get("draft", "")[:MAX_DRAFT]
    question_id = token.question_id if token else -1
    return _reveal(role, plan, mode, filters, question_id, request.form.get("token"), draft)


def _reveal(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    question_id: int,
    raw_token: str | None,
    draft: str | None,
) -> Response:
    """The back of a card: the model answer, the key-point checklist and the rating buttons."""
    token = read_token(raw_token, current_user)
    matches = token is not None and token.question_id == question_id
    question = question_in_role(question_id, role) if matches else None
    if question is None:
        return _render_card(role, plan, mode, filters, announce="That card expired. Here is the next one.")
    now = utc_now()
    state = own_state(current_user, question.id)
    answer_seconds = max(0, int(now.timestamp() - token.shown_at_ms / 1000))
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
        suggestions=suggestions(len(question.key_points), answer_seconds),
        suggestion_rule=SUGGESTION_RULE,
        previews=interval_previews(current_user, question, state, now, role),
        counts=queue_counts(current_user, role, now, filters),
        mode=mode,
        announce="Answer shown. Tick the key points you covered, then rate.",
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
    raw = request.form.get("rating", "")
    if raw == "auto" and covered is not None:
        seconds = int_id(request.form.get("answer_seconds"))
        rating = suggest_rating(len(covered), len(question.key_points), seconds)
    else:
        rating = int(raw) if raw in ("1", "2", "3", "4") else None
    if rating is None or covered is None:
        abort(400)
    result = record_rating(
        current_user,
        question,
        token,
        rating,
        draft=request.form.get("draft") if "draft" in request.form else None,
        # Coverage is recorded when the checklist was used: a box ticked, or "rate from my checklist".
        covered=covered if "checklist" in request.form and (covered or raw == "auto") else None,
        mode=mode,
        due_cap=plans.due_cap(current_user, plan, utc_now()),
        role=role,
    )
    if result.review is not None:
        session["undo"] = (session.get("undo", []) + [result.review.id])[-UNDO_DEPTH:]
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
    stack = list(session.get("undo") or [])
    wanted = int_id(request.form.get("review_id"))
    announce = "Nothing to undo."
    if stack and wanted == stack[-1]:
        session["undo"] = stack[:-1]
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


@bp.post("/questions/<int:question_id>/unsuspend")
@login_required
def unsuspend(question_id: int) -> Response:
    """Bring a suspended or buried card back into the queue."""
    if not unsuspend_card(current_user, question_id):
        abort(404)
    db.session.commit()
    return after_write(url_for("practice.history", question_id=question_id), "Card is back in your queue.")


@bp.get("/roles/<slug>/drill/summary")
@login_required
def summary(slug: str) -> str:
    """The session so far: cards done, ratings, time, and when the next card is due."""
    role, _plan = _role_and_plan(slug)
    now = utc_now()
    return render_template(
        "practice/summary.html",
        role=role,
        summary=_session_tally(role),
        next_due=next_due(current_user, role, now),
        now=now,
    )


@bp.post("/roles/<slug>/drill/summary")
@login_required
def finish(slug: str) -> Response:
    """End this drill session; the next drill starts a fresh summary."""
    role, _plan = _role_and_plan(slug)
    (session.get("drill") or {}).pop(role.slug, None)
    session["undo"] = []
    session.modified = True
    return after_write(url_for("catalog.role", slug=role.slug), "Session finished. Nice work.")


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
