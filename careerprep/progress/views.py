"""Your progress across roles."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from ..models import utc_now
from . import bp
from .services import dashboard as build_dashboard


@bp.get("/dashboard")
@login_required
def dashboard() -> str:
    """Per-role counts, reviews today, due now, streak, a 30-day chart and predicted recall."""
    return render_template("progress/dashboard.html", data=build_dashboard(current_user, utc_now()))
