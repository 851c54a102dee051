"""Your scheduler: fit it to your reviews, reset it, Easy Days and load balancing, the workload planner."""

from __future__ import annotations

from flask import Blueprint, Response, abort, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import after_write
from ..models import Role, utc_now
from ..queries import visible_role_and_plan
from . import fits
from .forms import ConfirmForm, SchedulerSettingsForm
from .planner import choose as choose_point
from .planner import parse_retention, planner, planner_context

bp = Blueprint("personal", __name__)


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every scheduler page is the signed-in user's own."""


def _page(
    form: SchedulerSettingsForm | None = None, status: int = 200, message: str | None = None
) -> Response:
    html = render_template(
        "personal/scheduler.html",
        status=fits.status(current_user),
        form=form or SchedulerSettingsForm.for_user(current_user),
        confirm=ConfirmForm(),
        message=message,
        plain_words=fits.plain_words,
        min_reviews=fits.MIN_REVIEWS,
        roles=db.session.scalars(db.select(Role).where(Role.archived.is_(False)).order_by(Role.title)).all(),
    )
    return make_response(html, status)


@bp.get("/account/scheduler")
def scheduler() -> Response:
    """Your scheduler: how well it fits you, Easy Days, load balancing, links to the planners."""
    return _page()


@bp.post("/account/scheduler/fit")
def fit() -> Response:
    """Fit my scheduler to my reviews now (kept only if it predicts my latest reviews better)."""
    if not ConfirmForm().validate_on_submit():
        return _page(status=400, message="The form expired; nothing was changed. Try again.")
    outcome = fits.fit_user(current_user)
    return after_write(url_for("personal.scheduler"), outcome.message)


@bp.post("/account/scheduler/reset")
def reset() -> Response:
    """Go back to the default scheduler; card states are rebuilt from the log."""
    if not ConfirmForm().validate_on_submit():
        return _page(status=400, message="The form expired; nothing was changed. Try again.")
    fits.reset_user(current_user)
    return after_write(url_for("personal.scheduler"), "Your scheduler is back to the defaults.")


@bp.post("/account/scheduler/settings")
def settings() -> Response:
    """Save Easy Days, load balancing and sharing; invalid values change nothing (422)."""
    form = SchedulerSettingsForm()
    if not form.validate_on_submit():
        return _page(form, status=422, message="Please fix the highlighted settings; nothing was changed.")
    current_user.easy_days = form.shares() if form.easy_days_on.data else None
    current_user.load_balance = bool(form.load_balance.data)
    current_user.share_reviews = bool(form.share_reviews.data)
    db.session.commit()
    return after_write(url_for("personal.scheduler"), "Scheduler settings saved.")


def _role_and_plan(slug: str):
    role, role_plan = visible_role_and_plan(slug, current_user.id)
    if role is None:
        abort(404)
    return role, role_plan


def _workload_page(slug: str, status: int = 200, error: str | None = None) -> Response:
    role, role_plan = _role_and_plan(slug)
    html = render_template(
        "personal/workload.html",
        role=role,
        **planner_context(current_user, role, role_plan, utc_now()),
        error=error,
    )
    return make_response(html, status)


@bp.get("/roles/<slug>/workload")
def workload(slug: str) -> Response:
    """How many minutes a day for how much known on interview day, per desired retention."""
    return _workload_page(slug)


@bp.post("/roles/<slug>/workload")
def choose(slug: str) -> Response:
    """Use a point of the plan: its desired retention and the new-question pace."""
    role, role_plan = _role_and_plan(slug)
    form = ConfirmForm()
    retention = parse_retention(request.form.get("retention"))
    if not form.validate_on_submit():
        return _workload_page(slug, 400, "The form expired; nothing was changed. Try again.")
    if retention is None:
        return _workload_page(
            slug, 422, "Pick one of the retentions in the table (75% to 97%); nothing was changed."
        )
    work = planner(current_user, role, role_plan, utc_now()).work
    choose_point(current_user, work, retention)
    db.session.commit()
    return after_write(
        url_for("personal.workload", slug=slug),
        f"Aiming to remember {retention:.0%}, with {work.new_per_day} new questions a day.",
    )
