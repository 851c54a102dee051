"""Your progress: across roles, and for one role."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from ..models import utc_now
from ..queries import visible_role
from . import bp
from .services import GOAL, role_progress
from .services import dashboard as build_dashboard


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """Today, a year of activity, the coming load, retention, consistency and each role at a glance."""
    # The user object itself, not the proxy: the roll-up records its new boundary on it.
    data = build_dashboard(current_user._get_current_object(), utc_now())
    return render_template("progress/dashboard.html", data=data, goal=GOAL)


@bp.get("/roles/<slug>/progress")
@login_required
def role(slug: str) -> str:
    """One role: competency per category, the weakest questions, recall spread, forecast, retention."""
    found = visible_role(slug)
    if found is None:
        abort(404)
    return render_template("progress/role.html", data=role_progress(current_user, found, utc_now()))
