"""Browse roles and see what each one covers."""

from __future__ import annotations

from flask import Response, abort, make_response, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Role, RolePlan, utc_now, zone
from ..queries import visible_role
from . import bp
from .services import catalogue, role_overview


def _user():
    return current_user if current_user.is_authenticated else None


@bp.get("/roles")
def roles() -> str:
    """Every published role with its question count and, signed in, your due and new cards."""
    return render_template("catalog/roles.html", cards=catalogue(_user(), utc_now()))


@bp.get("/roles/<slug>")
def role(slug: str) -> Response:
    """A role's summary, sets and categories, your progress, interview readiness, "Start drilling"."""
    found = visible_role(slug)
    if found is None:
        abort(404)
    return role_page(found)


def role_page(role: Role, status: int = 200, plan_error: str | None = None) -> Response:
    """Render a role page (also used to re-show it with an interview-date error)."""
    from ..practice.services import prepare_pace, readiness

    user, now = _user(), utc_now()
    plan = ready = pace = None
    if user is not None:
        plan = db.session.scalar(db.select(RolePlan).filter_by(user_id=user.id, role_id=role.id))
        if plan is not None and plan.interview_date > now.astimezone(zone(user.timezone)).date():
            ready, pace = readiness(user, role, plan), prepare_pace(user, role, plan, now)
    html = render_template(
        "catalog/role.html",
        role=role,
        overview=role_overview(role, user, now),
        plan=plan,
        readiness=ready,
        pace=pace,
        plan_error=plan_error,
        now=now,
    )
    return make_response(html, status)
