"""Sign up, sign in and sign out."""

from __future__ import annotations

from flask import (
    Response,
    current_app,
    flash,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from ..extensions import db, limiter
from ..htmx import is_htmx, is_safe_next, redirect_to
from ..models import User
from . import bp
from .forms import LoginForm, RegisterForm
from .services import authenticate, close_session, hash_password, normalise_email, open_session


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _next_url() -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else url_for("catalog.roles")


def _start_session(user: User, remember: bool) -> None:
    """Renew the session (no fixation), record the sign-in server-side and sign the user in."""
    session.clear()
    open_session(user)
    db.session.commit()
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def register() -> Response | str:
    """Create an account and sign straight in."""
    if current_user.is_authenticated:
        return redirect_to(url_for("catalog.roles"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        user = User(
            email=email,
            display_name=form.display_name.data.strip(),
            password_hash=hash_password(form.password.data, current_app.config["PASSWORD_HASH_METHOD"]),
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.email.errors.append("An account with this email already exists. Sign in instead.")
        else:
            _start_session(user, remember=False)
            flash("Welcome to CareerPrep! Pick a role to start drilling.", "success")
            return redirect_to(_next_url())
    status = 422 if form.is_submitted() else 200
    return make_response(render_template("auth/register.html", form=form), status)


def _account_limit() -> str:
    return current_app.config["AUTH_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    """Rate-limit key for the account being tried, whatever address the attempt comes from."""
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


def _failed(response: Response) -> bool:
    """Only failed sign-ins count against the limits (success is a 303, or 204 for htmx)."""
    return response.status_code not in (204, 303)


@bp.route("/login", methods=["GET", "POST"])
# override_defaults=False: both limits apply (by default each decorator replaces the one below it).
@limiter.limit(_auth_limit, methods=["POST"], deduct_when=_failed, override_defaults=False)
@limiter.limit(
    _account_limit, methods=["POST"], deduct_when=_failed, key_func=_account_key, override_defaults=False
)
def login() -> Response | str:
    """Sign in; an unknown email and a wrong password get the same message."""
    if current_user.is_authenticated:
        return redirect_to(_next_url())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data, current_app.config["PASSWORD_HASH_METHOD"])
        if user is not None:
            _start_session(user, remember=form.remember.data)  # commits a rehashed password too
            return redirect_to(_next_url())
        error = "Email or password is incorrect."
    elif form.is_submitted():
        error = "Enter your email and password."
    status = 422 if form.is_submitted() else 200
    next_target = request.args.get("next", "")
    return make_response(
        render_template(
            "auth/login.html", form=form, error=error, next=next_target if is_safe_next(next_target) else ""
        ),
        status,
    )


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out: end this sign-in on the server (copied cookies die too) and drop the session."""
    if current_user.is_authenticated:
        close_session(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect_to(url_for("core.index"))


def unauthorized() -> Response:
    """Send anonymous users to sign in; htmx gets an HX-Redirect instead of a swapped page."""
    target = request.full_path if request.method == "GET" else request.path
    target = target.rstrip("?")
    url = url_for("auth.login", next=target if is_safe_next(target) else None)
    if not is_htmx():
        flash("Please sign in to continue.", "info")
    return redirect_to(url)
