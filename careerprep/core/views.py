"""The landing page and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db, limiter
from ..htmx import redirect_to, safe_next
from ..themes import THEMES

bp = Blueprint("core", __name__)
_OK = '{"status":"ok"}\n'
_UNAVAILABLE = '{"status":"unavailable"}\n'


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
    # A connection from the pool, not the ORM session: a health check needs no unit of work, and the
    # session's set-up and teardown cost twice the query (issue 21's per-request floor).
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError:
        return Response(_UNAVAILABLE, 503, mimetype="application/json")
    return Response(_OK, 200, mimetype="application/json")


@bp.post("/theme")
def theme() -> Response:
    """Switch the colour theme (system → dark → light); saved on the account, or for this visit."""
    chosen = request.form.get("theme")
    if chosen not in THEMES:
        abort(400)
    if current_user.is_authenticated:
        current_user.theme = chosen
        db.session.commit()
    else:
        session["theme"] = chosen
    target = request.form.get("next", "")
    return redirect_to(safe_next(target) or url_for("core.index"))
