"""Your account: change password, sign out of other devices."""

from __future__ import annotations

from flask import Response, current_app, flash, make_response, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash

from ..auth.services import hash_password, other_sessions, revoke_sessions
from ..extensions import db
from ..htmx import redirect_to
from . import bp
from .forms import ChangePasswordForm, ConfirmForm, SettingsForm


def _page(
    form: ChangePasswordForm | None = None, status: int = 200, settings: SettingsForm | None = None
) -> Response:
    html = render_template(
        "account/index.html",
        form=form or ChangePasswordForm(),
        settings=settings or SettingsForm(obj=current_user, formdata=None),
        confirm=ConfirmForm(),
        others=other_sessions(current_user),
    )
    return make_response(html, status)


@bp.post("/settings")
def settings() -> Response:
    """Save study settings; invalid values are refused with a message and nothing changes."""
    form = SettingsForm()
    if not form.validate_on_submit():
        return _page(settings=form, status=422)
    for name in (
        "new_per_day",
        "max_reviews_per_day",
        "draft_enabled",
        "mock_questions",
        "mock_minutes",
        "timezone",
    ):
        setattr(current_user, name, getattr(form, name).data)
    current_user.desired_retention = float(form.desired_retention.data)
    db.session.commit()
    flash("Settings saved.", "success")
    return redirect_to(url_for("account.index"))


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every account page needs a signed-in user."""


@bp.get("/")
def index() -> Response:
    """Your account page."""
    return _page()


@bp.post("/password")
def password() -> Response:
    """Change the password (current one required); every other device is signed out."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            current_user.password_hash = hash_password(
                form.new.data, current_app.config["PASSWORD_HASH_METHOD"]
            )
            ended = revoke_sessions(current_user, keep_current=True)
            db.session.commit()
            flash(
                "Password changed."
                + (f" {ended} other device{'s' if ended != 1 else ''} signed out." if ended else ""),
                "success",
            )
            return redirect_to(url_for("account.index"))
    return _page(form, status=422)


@bp.post("/sessions/revoke-others")
def sign_out_others() -> Response:
    """Sign out every other device; this one stays signed in."""
    if not ConfirmForm().validate_on_submit():
        return _page(status=400)
    ended = revoke_sessions(current_user, keep_current=True)
    db.session.commit()
    flash(f"Signed out {ended} other device{'s' if ended != 1 else ''}.", "success")
    return redirect_to(url_for("account.index"))
