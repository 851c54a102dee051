"""The drill: one card at a time, reveal in place, check key points, rate with FSRS, undo."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, abort, flash, make_response, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import bindparam, func

from ..catalog.views import role_page
from ..extensions import db
from ..htmx import is_htmx, redirect_to, render, safe_next
from ..models import (
    CardFlag,
    CardState,
    Question,
    QuestionSet,
    Report,
    Review,
    Role,
    RolePlan,
    as_utc,
    utc_now,
    write_transaction,
    zone,
)
from ..queries import SLUG, USER, day_start, role_is_visible, visible_questions, visible_role_and_plan
from ..scheduling import RATING_LABELS
from ..web import int_id
from . import bp
from .forms import ReportForm
from .services import (
    MODES,
    QUICK_SECONDS,
    Filters,
    due_cap,
    interval_previews,
    issue_token,
    next_card,
    prepare_pace,
    read_token,
    readiness,
    record_rating,
    set_flag,
    suggest_rating,
    undo_rating,
)

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


def _question_in_role(question_id: int, role: Role) -> Question | None:
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


def _question_role_and_plan(question_id: int, slug: str) -> tuple[Question, Role, RolePlan | None] | None:
    """The rated question, its (visible) role and the user's interview plan for it, in one query."""
    row = db.session.execute(
        _RATED_QUESTION, {"user_id": current_user.id, "question_id": question_id, "slug": slug}
    ).first()
    return (row[0], row[1], row[2]) if row else None


def _own_state(question: Question) -> CardState | None:
    return db.session.scalar(db.select(CardState).filter_by(user_id=current_user.id, question_id=question.id))


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


def _page_context(role: Role, plan: RolePlan | None, now: datetime, mode: str) -> dict:
    """What only the full page needs: focus choices, readiness and pace for an interview date."""
    if is_htmx():
        return {}
    context = {"categories": [], "tags": [], "readiness": None, "pace": None}
    if mode == "focus":
        rows = db.session.execute(
            visible_questions(role.id).with_only_columns(Question.category, Question.tags)
        ).all()
        context["categories"] = sorted({c for c, _ in rows})
        context["tags"] = sorted({t for _, tags in rows for t in (tags or [])})
    if plan is not None and plan.interview_date > now.astimezone(zone(current_user.timezone)).date():
        context["readiness"] = readiness(current_user, role, plan)
        context["pace"] = prepare_pace(current_user, role, plan, now)
    return context


def _render_card(
    role: Role, plan: RolePlan | None, mode: str, filters: Filters, announce: str = "", status: int = 200
) -> Response:
    """The next card's front (or the done card), as a page or an htmx fragment."""
    now = utc_now()
    _touch_session(role, now)
    item = next_card(current_user, role, now, mode, filters, plan)
    token = issue_token(current_user, item.question, now, item.state) if item.question else None
    return render(
        "practice/drill.html",
        "practice/_card.html",
        status=status,
        role=role,
        plan=plan,
        item=item,
        side="front",
        token=token,
        announce=announce,
        now=now,
        mode=item.mode,
        filters=filters,
        undo=_undo_top(),
        summary=_summary(role, now) if item.question is None else None,
        **_page_context(role, plan, now, mode),
    )


@bp.get("/roles/<slug>/drill")
@login_required
def drill(slug: str) -> Response:
    """Show the next card; with ?reveal=<id>&token=… show that card's answer and rating buttons."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.args)
    reveal = int_id(request.args.get("reveal"))
    if reveal is None:
        return _render_card(role, plan, mode, filters)
    return _reveal(role, plan, mode, filters, reveal, request.args.get("token"), draft=None)


@bp.post("/roles/<slug>/drill/reveal")
@login_required
def reveal(slug: str) -> Response:
    """Reveal after drafting an answer: the draft is shown beside the model answer."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    question_id = token.question_id if token else -1
    return _reveal(
        role,
        plan,
        mode,
        filters,
        question_id,
        request.form.get("token"),
        draft=request.form.get("draft", "")[:20_000],
    )


def _reveal(
    role: Role,
    plan: RolePlan | None,
    mode: str,
    filters: Filters,
    question_id: int,
    raw_token: str | None,
    draft: str | None,
) -> Response:
    token = read_token(raw_token, current_user)
    question = _question_in_role(question_id, role) if token and token.question_id == question_id else None
    if question is None:
        return _render_card(role, plan, mode, filters, announce="That card expired. Here is the next one.")
    now = utc_now()
    state = _own_state(question)
    answer_seconds = max(0, int(now.timestamp() - token.shown_at_ms / 1000))
    return render(
        "practice/drill.html",
        "practice/_card.html",
        role=role,
        plan=plan,
        question=question,
        state=state,
        side="back",
        token=raw_token,
        draft=draft,
        answer_seconds=answer_seconds,
        quick=QUICK_SECONDS,
        previews=interval_previews(current_user, question, state, now),
        mode=mode,
        filters=filters,
        announce="Answer shown. Tick the key points you covered, then rate.",
        now=now,
        undo=_undo_top(),
        item=None,
        **_page_context(role, plan, now, mode),
    )


@bp.post("/roles/<slug>/drill")
@login_required
def rate(slug: str) -> Response:
    """Record a rating (once per card showing) and move on to the next card."""
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    found = _question_role_and_plan(token.question_id, slug) if token else None
    if found is None:
        _role_and_plan(slug)  # 404 for an unknown role; a known role with a bad token is a 400 below
        role = plan = question = None
    else:
        question, role, plan = found
    covered = _covered(request.form.getlist("covered"), question)
    raw = request.form.get("rating", "")
    if raw == "auto" and question is not None and covered is not None:
        seconds = int_id(request.form.get("answer_seconds"))
        rating = suggest_rating(len(covered), len(question.key_points), seconds)
    else:
        rating = int(raw) if raw in ("1", "2", "3", "4") else None
    if rating is None or question is None or covered is None:
        abort(400)
    result = record_rating(
        current_user,
        question,
        token,
        rating,
        draft=request.form.get("draft") if "draft" in request.form else None,
        covered=covered if "checklist" in request.form else None,
        mode=mode,
        due_cap=due_cap(current_user, plan, utc_now()),
    )
    if result.review is not None:
        stack = session.get("undo", [])
        session["undo"] = (stack + [result.review.id])[-UNDO_DEPTH:]
    status = 200
    if result.stale:
        announce = (
            "This card was already rated in another tab, so nothing was recorded. Here is your next card."
        )
        status = 409
    elif result.duplicate:
        announce = "Already recorded. Next card."
    else:
        announce = f"Rated {RATING_LABELS[rating]}. Next card."
    if result.leech:
        announce = (
            "Leech: this card has lapsed 8 times, so it is suspended. Rewrite your notes for it, "
            "then unsuspend it from its history page. " + announce
        )
    if not is_htmx():
        if result.leech or result.stale:
            flash(announce, "warning")
        return redirect_to(_drill_url(role, mode, filters))
    # The rating is committed: the next card only reads, outside SQLite's write lock.
    return _render_card(role, plan, mode, filters, announce=announce, status=status)


def _covered(values: list[str], question: Question | None) -> list[int] | None:
    """Ticked key-point indexes, or None if any is not a valid index."""
    if question is None:
        return []
    picked = set()
    for value in values:
        if not value.isdigit() or int(value) >= len(question.key_points):
            return None
        picked.add(int(value))
    return sorted(picked)


# -- undo -------------------------------------------------------------------------------------------


def _undo_top() -> int | None:
    stack = session.get("undo") or []
    return stack[-1] if stack else None


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
        stack.pop()
        session["undo"] = stack
        announce = undo_rating(current_user.id, wanted)
    if not is_htmx():
        flash(announce, "info")
        return redirect_to(_drill_url(role, mode, filters))
    return _render_card(role, plan, mode, filters, announce=announce)


# -- suspend and bury ---------------------------------------------------------------------------------


@bp.post("/roles/<slug>/drill/flag")
@login_required
def flag(slug: str) -> Response:
    """Suspend a card (until you unsuspend it) or bury it until tomorrow."""
    role, plan = _role_and_plan(slug)
    mode, filters = _mode_and_filters(request.form)
    token = read_token(request.form.get("token"), current_user)
    action = request.form.get("action")
    question = _question_in_role(token.question_id, role) if token else None
    if question is None or action not in ("suspend", "bury"):
        abort(400)
    now = utc_now()
    with write_transaction():
        if action == "suspend":
            set_flag(current_user.id, question.id, suspended=True)
            announce = "Card suspended. Unsuspend it from its history page."
        else:
            set_flag(
                current_user.id, question.id, buried_until=day_start(current_user, now) + timedelta(days=1)
            )
            announce = "Card buried until tomorrow."
        db.session.commit()
    if not is_htmx():
        flash(announce, "info")
        return redirect_to(_drill_url(role, mode, filters))
    return _render_card(role, plan, mode, filters, announce=announce)


@bp.post("/questions/<int:question_id>/unsuspend")
@login_required
def unsuspend(question_id: int) -> Response:
    """Bring a suspended or buried card back into the queue."""
    found = db.session.scalar(db.select(CardFlag).filter_by(user_id=current_user.id, question_id=question_id))
    if found is None:
        abort(404)
    found.suspended = False
    found.leech = False
    found.buried_until = None
    db.session.commit()
    flash("Card is back in your queue.", "success")
    return redirect_to(url_for("practice.history", question_id=question_id))


# -- summary and history ----------------------------------------------------------------------------------


def _summary(role: Role, now: datetime) -> dict | None:
    """This drill session's cards, ratings and time (since the session started)."""
    entry = (session.get("drill") or {}).get(role.slug)
    if not entry:
        return None
    started = datetime.fromisoformat(entry["started"])
    rows = db.session.execute(
        db.select(Review.rating, func.count(Review.id), func.coalesce(func.sum(Review.duration_ms), 0))
        .join(Question, Question.id == Review.question_id)
        .join(QuestionSet, Question.set_id == QuestionSet.id)
        .where(
            Review.user_id == current_user.id, Review.reviewed_at >= started, QuestionSet.role_id == role.id
        )
        .group_by(Review.rating)
    ).all()
    ratings = {int(r): int(n) for r, n, _ in rows}
    return {
        "started": started,
        "cards": sum(ratings.values()),
        "ratings": ratings,
        "minutes": round(sum(int(ms) for _, _, ms in rows) / 60000, 1),
    }


@bp.get("/roles/<slug>/drill/summary")
@login_required
def summary(slug: str) -> str:
    """The session so far: cards done, ratings, time, and when the next card is due."""
    role, _plan = _role_and_plan(slug)
    now = utc_now()
    next_due = db.session.scalar(
        visible_questions(role.id)
        .with_only_columns(func.min(CardState.due))
        .join(CardState, (CardState.question_id == Question.id) & (CardState.user_id == current_user.id))
        .where(CardState.due > now)
    )
    return render_template(
        "practice/summary.html",
        role=role,
        summary=_summary(role, now),
        next_due=as_utc(next_due) if next_due else None,
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
    flash("Session finished. Nice work.", "success")
    return redirect_to(url_for("catalog.role", slug=role.slug))


@bp.get("/questions/<int:question_id>/history")
@login_required
def history(question_id: int) -> str:
    """Every past attempt at a question: draft, rating, key points covered and date."""
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    reviews = db.session.scalars(
        db.select(Review)
        .filter_by(user_id=current_user.id, question_id=question_id)
        .order_by(Review.reviewed_at.desc(), Review.id.desc())
    ).all()
    visible = db.session.scalar(visible_questions().where(Question.id == question_id))
    if visible is None and not reviews:
        abort(404)
    state = _own_state(question)
    found = db.session.scalar(db.select(CardFlag).filter_by(user_id=current_user.id, question_id=question_id))
    return render_template(
        "practice/history.html",
        question=question,
        reviews=reviews,
        state=state,
        flag=found,
        tz=zone(current_user.timezone),
        now=utc_now(),
    )


# -- interview date ---------------------------------------------------------------------------------------


@bp.post("/roles/<slug>/plan")
@login_required
def plan(slug: str) -> Response:
    """Set or clear the interview date for a role."""
    role, existing = _role_and_plan(slug)
    today = utc_now().astimezone(zone(current_user.timezone)).date()
    raw = request.form.get("interview_date", "").strip()
    if request.form.get("action") == "clear" or not raw:
        if existing is not None:
            db.session.delete(existing)
            db.session.commit()
        flash("Interview date cleared.", "info")
        return redirect_to(url_for("catalog.role", slug=role.slug))
    try:
        chosen = date.fromisoformat(raw)
    except ValueError:
        chosen = None
    if chosen is None or chosen <= today or chosen > today + timedelta(days=730):
        return role_page(
            role, status=422, plan_error="Choose an interview date after today and within two years."
        )
    if existing is None:
        db.session.add(RolePlan(user_id=current_user.id, role_id=role.id, interview_date=chosen))
    else:
        existing.interview_date = chosen
    db.session.commit()
    flash(f"Interview date set to {chosen:%A %d %B %Y}.", "success")
    return redirect_to(url_for("catalog.role", slug=role.slug))


# -- reporting a question ------------------------------------------------------------------------------------


@bp.route("/questions/<int:question_id>/report", methods=["GET", "POST"])
@login_required
def report(question_id: int) -> Response:
    """Flag a question as wrong, unclear or a duplicate, with a comment, for the admins."""
    question = db.session.scalar(visible_questions().where(Question.id == question_id))
    if question is None:
        abort(404)
    form = ReportForm()
    back = request.values.get("next", "")
    back = safe_next(back) or url_for("catalog.role", slug=question.question_set.role.slug)
    if form.validate_on_submit():
        with write_transaction():
            existing = db.session.scalar(
                db.select(Report).filter_by(user_id=current_user.id, question_id=question.id, status="open")
            )
            if existing is None:
                db.session.add(
                    Report(
                        user_id=current_user.id,
                        question_id=question.id,
                        reason=form.reason.data,
                        comment=form.comment.data or "",
                    )
                )
            else:  # one open report per person and question: update it rather than pile up
                existing.reason, existing.comment = form.reason.data, form.comment.data or ""
            db.session.commit()
        flash("Thanks: an admin will look at this question.", "success")
        return redirect_to(back)
    status = 422 if form.is_submitted() else 200
    return make_response(
        render_template("practice/report.html", question=question, form=form, back=back), status
    )
