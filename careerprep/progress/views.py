"""Your progress: across roles, and for one role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..models import utc_now
from ..queries import visible_role_or_404
from .activity import GOAL
from .dashboard import dashboard as build_dashboard
from .role import role_progress

bp = Blueprint("progress", __name__)


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
    found = visible_role_or_404(slug)
    return render_template("progress/role.html", data=role_progress(current_user, found, utc_now()))
