"""Error pages for browsers and htmx, which leak nothing (no trace, no SQL)."""

from __future__ import annotations

from flask import Flask, Response, make_response, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .htmx import is_htmx

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Reload the page and try again."),
    403: ("Not allowed", "You do not have permission to see this page."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Method not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "That upload is larger than the 1 MiB limit."),
    422: ("Invalid input", "Some of what you sent was not valid."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a minute, then try again."),
    500: ("Something went wrong", "An unexpected error occurred. It has been logged; try again."),
}


def render_error(status: int, detail: str | None = None) -> Response:
    """A full error page, or for htmx an alert swapped into #alerts."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    if detail:
        message = detail
    if is_htmx():
        html = render_template("errors/_alert.html", title=title, message=message)
        response = make_response(html, status)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        html = render_template("errors/error.html", status=status, title=title, message=message)
        response = make_response(html, status)
    response.vary.add("HX-Request")
    return response


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Response:
        return render_error(
            400, "Your form expired or was sent without its security token. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code is None or error.code < 400:
            return error
        response = render_error(error.code)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError) -> Response:
        db.session.rollback()
        return render_error(500)
