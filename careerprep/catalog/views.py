"""Browse roles, see what each covers, set an interview date, download a role as an Anki deck."""

from __future__ import annotations

import io

from flask import Blueprint, Response, abort, make_response, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from .. import plans
from ..banks import anki
from ..extensions import db
from ..htmx import after_write
from ..models import Role, RolePlan, utc_now
from ..personal.planner import planner_context
from ..queries import visible_role_and_plan, visible_role_or_404
from .services import catalogue, role_overview

bp = Blueprint("catalog", __name__)


def _user():
    return current_user if current_user.is_authenticated else None


@bp.get("/roles")
def roles() -> str:
    """Every published role with its question count and, signed in, your due and new cards."""
    return render_template("catalog/roles.html", cards=catalogue(_user(), utc_now()))


@bp.get("/roles/<slug>")
def role(slug: str) -> Response:
    """A role's summary, sets and categories, your progress, interview readiness, "Start drilling"."""
    found = visible_role_or_404(slug)
    plan = None
    if _user() is not None:
        plan = db.session.scalar(db.select(RolePlan).filter_by(user_id=current_user.id, role_id=found.id))
    return _role_page(found, plan)


def _role_page(
    role: Role, plan: RolePlan | None, status: int = 200, plan_error: str | None = None
) -> Response:
    """Render a role page (also to show it again with an interview-date error)."""
    user, now = _user(), utc_now()
    html = render_template(
        "catalog/role.html",
        role=role,
        overview=role_overview(role, user, now),
        plan=plan,
        plan_error=plan_error,
        now=now,
        **plans.plan_context(user, role, plan, now),
        **planner_context(user, role, plan, now),
    )
    return make_response(html, status)


@bp.post("/roles/<slug>/plan")
@login_required
def plan(slug: str) -> Response:
    """Set or clear the interview date for a role."""
    role, existing = visible_role_and_plan(slug, current_user.id)
    if role is None:
        abort(404)
    back = url_for("catalog.role", slug=role.slug)
    raw = request.form.get("interview_date", "")
    if request.form.get("action") == "clear" or not raw.strip():
        plans.set_interview_date(current_user, role, existing, None)
        db.session.commit()
        return after_write(back, "Interview date cleared.", category="info")
    chosen = plans.parse_interview_date(raw, current_user.local_today(utc_now()))
    if chosen is None:
        error = "Choose an interview date after today and within two years."
        return _role_page(role, existing, status=422, plan_error=error)
    plans.set_interview_date(current_user, role, existing, chosen)
    db.session.commit()
    return after_write(back, f"Interview date set to {chosen:%A %d %B %Y}.")


@bp.get("/roles/<slug>/anki.apkg")
@login_required
def deck(slug: str) -> Response:
    """Download a role's published questions as an Anki deck (.apkg), one subdeck per set; with
    `?progress=1`, your card states and review log come too, so Anki schedules from where you are."""
    role = visible_role_or_404(slug)
    with_progress = request.args.get("progress") == "1"
    data = anki.role_deck(role, user=current_user if with_progress else None)
    if data is None:
        abort(404)
    name = anki.deck_filename(role, with_progress=with_progress)
    response = send_file(io.BytesIO(data), mimetype=anki.MEDIA_TYPE, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
