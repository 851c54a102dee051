"""Your account: settings, password, other devices, your data (export) and deleting the account."""

from __future__ import annotations

from collections.abc import Iterator

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
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required, logout_user

from .. import limits
from ..auth.services import (
    hash_password,
    open_sign_ins,
    password_matches,
    revoke_sessions,
    revoke_sign_in,
)
from ..extensions import db
from ..htmx import after_write, redirect_to
from ..localtime import known_zone, zone
from ..models import utc_now
from ..personal.fits import plain_words
from ..personal.fits import status as fit_status
from ..recordings.service import delete_user_audio
from . import restore
from .data import export_document, export_reviews_csv
from .deletion import delete_account
from .forms import ChangePasswordForm, ConfirmForm, DeleteAccountForm, SettingsForm

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(
    form: ChangePasswordForm | None = None,
    status: int = 200,
    settings: SettingsForm | None = None,
    delete_form: DeleteAccountForm | None = None,
) -> Response:
    html = render_template(
        "account/index.html",
        form=form or ChangePasswordForm(),
        settings=settings or SettingsForm(obj=current_user, formdata=None),
        confirm=ConfirmForm(),
        delete_form=delete_form or DeleteAccountForm(prefix="delete", formdata=None),
        sign_ins=open_sign_ins(current_user),
        tz=zone(current_user.timezone),
        scheduler=fit_status(current_user),
        plain_words=plain_words,
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
        "keep_recordings",
        "mock_questions",
        "mock_minutes",
        "timezone",
    ):
        setattr(current_user, name, getattr(form, name).data)
    current_user.desired_retention = float(form.desired_retention.data)
    db.session.commit()
    flash("Settings saved.", "success")
    return redirect_to(url_for("account.index"))


@bp.post("/timezone")
def timezone() -> Response:
    """Switch to the time zone the browser reports (offered on the account page when they differ)."""
    if not ConfirmForm().validate_on_submit():
        return _page(status=400)
    chosen = known_zone(request.form.get("timezone"))
    if chosen is None:
        return _page(status=422)
    current_user.timezone = chosen
    db.session.commit()
    return after_write(url_for("account.index"), f"Your days now start at midnight in {chosen}.")


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
        if not _password_confirmed(form.current.data):
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


@bp.post("/sessions/<int:session_id>/revoke")
def revoke_session(session_id: int) -> Response:
    """Sign out one other device; someone else's sign-in (or this one) is a 404."""
    if not ConfirmForm().validate_on_submit():
        return _page(status=400)
    if not revoke_sign_in(current_user, session_id):
        abort(404)
    db.session.commit()
    flash("That device is signed out.", "success")
    return redirect_to(url_for("account.index"))


# -- your data ------------------------------------------------------------------------------------


def _download(body: Iterator[str], mimetype: str, stem: str, extension: str) -> Response:
    """A streamed attachment named after the user's local date, kept out of every cache."""
    day = current_user.local_today(utc_now()).isoformat()
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}-{day}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.json")
def export_json() -> Response:
    """Download everything CareerPrep stores about you as one JSON file."""
    user = current_user._get_current_object()
    return _download(export_document(user, utc_now()), "application/json", "careerprep-export", "json")


@bp.get("/reviews.csv")
def export_csv() -> Response:
    """Download your review log as a spreadsheet (CSV), one row per review."""
    user = current_user._get_current_object()
    return _download(export_reviews_csv(user), "text/csv", "careerprep-reviews", "csv")


@bp.post("/import")
def import_data() -> Response:
    """Bring in your data exported from another CareerPrep server: all of it, or nothing."""
    upload = request.files.get("file")
    raw = upload.read(restore.MAX_BYTES + 1) if upload else b""
    try:
        if not raw:
            raise restore.RestoreError(["choose the .json file CareerPrep exported"])
        plan = restore.check_document(restore.read_document(raw))
        db.session.rollback()  # the checks only read: end that before the write transaction
        summary = restore.restore(current_user, plan)
    except restore.RestoreError as exc:
        db.session.rollback()
        shown = exc.errors[:20] + ([f"… and {len(exc.errors) - 20} more"] if len(exc.errors) > 20 else [])
        for error in shown:
            flash(error, "error")
        flash("Nothing was imported.", "error")
        return _page(status=422)
    flash(f"Imported your data: {summary}.", "success")
    return redirect_to(url_for("account.index"))


# -- deleting the account -------------------------------------------------------------------------


def _password_confirmed(password: str) -> bool:
    """Check the signed-in user's password, counting the attempt first (429 once over the limit).

    A stolen session must not be able to guess the password at leisure (then change it, or delete
    the account): the same limit as sign-in, per account, counted before the check.
    """
    key = f"user:{current_user.id}"
    if not limits.consume("password-check", "AUTH_RATE_LIMIT", key):
        abort(429)
    if not password_matches(current_user.password_hash, password):
        return False
    limits.refund("password-check", "AUTH_RATE_LIMIT", key)
    return True


@bp.post("/delete")
def delete() -> Response:
    """Delete the account and every row of its data, after the password and a ticked box; sign out."""
    form = DeleteAccountForm(prefix="delete")
    if form.validate_on_submit():
        if not _password_confirmed(form.password.data):
            form.password.errors.append("That is not your password.")
        else:
            user_id = current_user.id
            delete_account(user_id)
            db.session.commit()
            delete_user_audio(user_id)  # files after the rows: a failed commit keeps both
            logout_user()
            session.clear()
            flash("Your account and all its data have been deleted.", "success")
            return redirect_to(url_for("core.index"))
    return _page(delete_form=form, status=422)
