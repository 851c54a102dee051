"""The landing page and the health check."""

from __future__ import annotations

from flask import Response, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, limiter
from . import bp


@bp.get("/")
def index() -> Response | str:
    """What CareerPrep does, with sign-up and sign-in; signed-in users go to their roles."""
    if current_user.is_authenticated:
        return redirect(url_for("catalog.roles"))
    return render_template("core/index.html")


@bp.get("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(db.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok"), 200
