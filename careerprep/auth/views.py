"""Sign up, sign in and sign out."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
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

from .. import limits
from ..extensions import db, limiter
from ..htmx import after_write, redirect_to, safe_next
from ..localtime import known_zone
from ..models import User
from .forms import LoginForm, RegisterForm
from .services import authenticate, close_session, hash_password, normalise_email, open_session

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def _next_url() -> str:
    target = request.args.get("next") or request.form.get("next")
    return safe_next(target) or url_for("catalog.roles")


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
            timezone=known_zone(form.timezone.data) or "UTC",
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
            return limits.remember_device(redirect_to(_next_url()), email)
    status = 422 if form.is_submitted() else 200
    return make_response(render_template("auth/register.html", form=form), status)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """Sign in; an unknown email and a wrong password get the same message.

    Each attempt is counted before the password is checked (careerprep.limits): per address, and per
    account unless this browser has signed in to that account before.
    """
    if current_user.is_authenticated:
        return redirect_to(_next_url())
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        address = limits.client_address()
        per_account = not limits.known_device(email)
        if not limits.consume("login", "AUTH_RATE_LIMIT", address) or (
            per_account and not limits.consume("login-account", "AUTH_ACCOUNT_RATE_LIMIT", email)
        ):
            abort(429)
        user = authenticate(email, form.password.data, current_app.config["PASSWORD_HASH_METHOD"])
        if user is not None:
            limits.refund("login", "AUTH_RATE_LIMIT", address)
            if per_account:
                limits.refund("login-account", "AUTH_ACCOUNT_RATE_LIMIT", email)
            _start_session(user, remember=form.remember.data)  # commits a rehashed password too
            return limits.remember_device(redirect_to(_next_url()), email)
        error = "Email or password is incorrect."
    elif form.is_submitted():
        error = "Enter your email and password."
    status = 422 if form.is_submitted() else 200
    return make_response(
        render_template(
            "auth/login.html", form=form, error=error, next=safe_next(request.args.get("next"), "")
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
    return after_write(
        url_for("auth.login", next=safe_next(target)), "Please sign in to continue.", category="info"
    )
