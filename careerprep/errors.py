"""Error pages for browsers and htmx, which leak nothing (no trace, no SQL) and need no database.

Every handler returns a response, so the app's after-request hooks still add their headers (CSP,
nosniff, the request id) and htmx still gets its retarget to #alerts. A page rendered while the
database is down shows the visitor's header: the signed-in one would load the user (Flask-Login's
loader queries the database) and fail a second time.
"""

from __future__ import annotations

import json
import logging
import sqlite3

from flask import Flask, Response, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, login_manager
from .htmx import alert

log = logging.getLogger("careerprep.errors")

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    403: ("Not allowed", "You do not have permission to see this page."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    409: (
        "Changed meanwhile",
        "This changed while you were saving, so nothing was saved. Reload and try again.",
    ),
    413: ("Too large", "That upload is larger than the 1 MiB limit."),
    422: ("Invalid input", "Some of what you sent was not valid."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a minute, then try again."),
    500: ("Something went wrong", "An unexpected error occurred. It has been logged; try again."),
    503: (
        "Temporarily unavailable",
        "CareerPrep cannot reach its database right now, so nothing was saved. Try again in a minute.",
    ),
}
RETRY_AFTER = {429: 60, 503: 30}  # seconds, sent as Retry-After


def render_error(status: int, detail: str | None = None) -> Response:
    """A full error page, or for htmx an alert swapped into #alerts."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    if detail:
        message = detail

    def page() -> Response:
        html = render_template("errors/error.html", status=status, title=title, message=message)
        return make_response(html, status)

    response = alert(status, title, message, page)
    if status in RETRY_AFTER:
        response.headers["Retry-After"] = str(RETRY_AFTER[status])
    return response


def as_visitor() -> None:
    """Render the rest of this request as a visitor, so no template touches the database."""
    g._login_user = login_manager.anonymous_user()


def end_transaction() -> bool:
    """Roll back this request's transaction; False (and render as a visitor) if the database is gone."""
    try:
        db.session.rollback()
        return True
    except Exception:  # noqa: BLE001 (whatever the driver raises, the page must still render)
        _drop_session()
        as_visitor()
        return False


def _drop_session() -> None:
    """Forget the session without talking to the database (its connection may be dead)."""
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001
        db.session.registry.clear()


# SQLite reports a missing table with the same exception class as a missing file: read the message.
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "disk is full", "readonly")


def database_down(error: Exception) -> bool:
    """True for errors that mean the database cannot answer (unreachable, restarting, locked too long)."""
    if isinstance(error, InterfaceError) or (isinstance(error, DBAPIError) and error.connection_invalidated):
        return True
    if not isinstance(error, OperationalError):
        return False
    if isinstance(error.orig, sqlite3.Error):
        return any(word in str(error.orig).lower() for word in _SQLITE_UNAVAILABLE)
    return True


def _log_once(event: str, error: BaseException) -> None:
    """One line per failed request: what failed and where, never a traceback or the SQL."""
    orig = getattr(error, "orig", None) or error
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    log.warning(
        json.dumps(
            {
                "event": event,
                "request_id": g.get("request_id"),
                "method": request.method,
                "path": request.path,
                "error": f"{type(orig).__name__}: {first_line}",
            }
        )
    )


def register(app: Flask) -> None:
    """Install the handlers."""
    if not log.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return render_error(
            400, "Your form expired or was sent without its security token. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code is None or error.code < 400:
            return error
        custom = error.description != type(error).description  # abort(503, "…") says why
        response = render_error(error.code, error.description if custom else None)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(IntegrityError)
    def conflict(error: IntegrityError) -> Response:
        # Two requests raced for the same unique row; the loser changes nothing and says so.
        end_transaction()
        _log_once("conflict", error)
        return render_error(409)

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> Response:
        if not database_down(error):  # a bug, not an outage: log it whole, as Flask does
            app.log_exception((type(error), error, error.__traceback__))
            return server_error(error)
        _drop_session()
        as_visitor()
        _log_once("database_unavailable", error)
        return render_error(503)

    @app.errorhandler(InternalServerError)
    def server_error(error: Exception) -> Response:
        end_transaction()
        return render_error(500)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        # Runs before Flask-SQLAlchemy's own teardown (teardowns run last-registered first): a
        # session whose connection died is dropped here instead of raising after the response.
        _drop_session()
