"""Request plumbing: proxy trust, security headers, list-page arguments and structured request logs."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time

from flask import Flask, Response, abort, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .extensions import csrf, db

log = logging.getLogger("careerprep.request")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",  # playing back your own recording (an object URL) before it is sent
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(self), geolocation=()"),
)


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL


class App(Flask):
    """Flask, with what it would otherwise work out again on every request worked out once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        """Flask's check for `async def`, remembered per function: Flask asks it for every hook and
        view of every request (about ten `inspect` calls a request)."""
        try:
            return self._sync[func]
        except KeyError:
            self._sync[func] = synced = super().ensure_sync(func)
            return synced
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its serializer built once per key instead of per request
    (building one encodes a test value to JSON, some 5% of /healthz)."""

    _serializer: tuple = (None, None)

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached_keys, serializer = self._serializer
        if cached_keys != keys:
            serializer = super().get_signing_serializer(app)
            self._serializer = (keys, serializer)
        return serializer


class IdConverter(IntegerConverter):
    """`<int:…>` in URLs, bounded to what an id column holds: larger numbers are a plain 404."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def int_id(value: str | None) -> int | None:
    """An id from a query string or form: a positive integer an id column can hold, else None."""
    if value is None or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def query_args(names: tuple[str, ...], limit: int = 200) -> dict[str, str]:
    """The named query-string values of this request (non-empty, shortened): a list page's filters.

    Only these names ever reach `url_for`, so `?endpoint=`, `?_external=` or `?_method=` in a URL
    cannot change how its links are built.
    """
    return {name: request.args[name][:limit] for name in names if request.args.get(name)}


def paginate(stmt, per_page: int, **options):
    """One page of a select; ?page= is a whole number an id column can hold, else page 1."""
    number = int_id(request.args.get("page")) or 1
    return db.paginate(stmt, page=number, per_page=per_page, error_out=False, **options)


def register(app: Flask) -> None:
    """Install the hooks on the app."""
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    _configure_logging(app)
    app.session_interface = SessionInterface()
    # Flask-WTF's own hook checks exemptions on every request before it looks at the method; the
    # check runs in start_request instead, for the methods it applies to (same rules, same errors).
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    config = app.config

    @app.before_request
    def start_request() -> None:
        req = request._get_current_object()
        if req.method in config["WTF_CSRF_METHODS"] and config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        g.started = time.perf_counter()
        incoming = req.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID_RE.match(incoming) else secrets.token_hex(8)
        if _has_nul(req):
            # No text field may hold NUL; PostgreSQL refuses it outright, so refuse it first.
            abort(400)

    @app.after_request
    def finish_request(response: Response) -> Response:
        req = request._get_current_object()
        headers = response.headers
        # One pass over the response's headers, not one per security header (every request pays it).
        present = {name.lower() for name, _value in headers.items()}
        for name, value in SECURITY_HEADERS:
            if name.lower() not in present:
                headers.add(name, value)
        if req.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if req.endpoint != "static" and "cache-control" not in present and "_user_id" in session:
            # Pages for a signed-in user are theirs alone: never stored by a browser or a proxy.
            headers["Cache-Control"] = "private, no-store"
        request_id = g.get("request_id")
        if request_id is not None:
            headers["X-Request-ID"] = request_id
            if config.get("LOG_REQUESTS", True):
                _log_request(response)
        return response


def _has_nul(req) -> bool:
    """True if a path, query or form value (or key) contains a NUL character.

    Forms read form-encoded bodies only (careerprep.forms.Form), so a JSON body is never read at all.
    """
    pairs = [*req.args.items(multi=True), *(req.view_args or {}).items()]
    if req.method in UNSAFE_METHODS:
        pairs.extend(req.form.items(multi=True))
    return any("\x00" in str(key) or (isinstance(value, str) and "\x00" in value) for key, value in pairs)


def _log_request(response: Response) -> None:
    """One JSON line per request: no query strings, form data, cookies or headers (no secrets)."""
    user_id = None
    try:
        if current_user and current_user.is_authenticated:
            user_id = current_user.id
    except Exception:  # noqa: BLE001 (a broken session must not break logging)
        user_id = None
    log.info(
        json.dumps(
            {
                "event": "request",
                "request_id": g.request_id,
                "method": request.method,
                "path": request.path,
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.started) * 1000, 2),
                "user_id": user_id,
                "remote_addr": request.remote_addr,
            }
        )
    )


def _configure_logging(app: Flask) -> None:
    if log.handlers or app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
