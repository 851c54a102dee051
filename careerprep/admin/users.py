"""Admin: find users, make or unmake admins, disable or enable accounts; every change is audited."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, flash, make_response, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import Select, false, func, or_, true

from .. import audit
from ..auth.services import revoke_sessions
from ..extensions import db
from ..htmx import after_write, alert, redirect_to, render
from ..models import Review, User, write_transaction
from ..web import paginate, query_args
from .blueprint import bp

PER_PAGE = 25
MAX_QUERY = 100
RESULTS_ID = "user-results"
# The list's own query string, carried through the row forms so a change lands back on the same view.
LIST_ARGS = ("q", "admins", "disabled", "page")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its `%`, `_` and `\\` taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def users_query(q: str = "", admins_only: bool = False, disabled_only: bool = False) -> Select:
    """Users matching the search (email or display name, any case) and filters, newest first."""
    stmt = db.select(User)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(User.email.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\"))
        )
    if admins_only:
        stmt = stmt.where(User.is_admin == true())
    if disabled_only:
        stmt = stmt.where(User.is_active == false())
    return stmt.order_by(User.created_at.desc(), User.id.desc())


def review_stats(user_ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    """Review count and last review time per user, in one GROUP BY query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        db.select(Review.user_id, func.count(Review.id), func.max(Review.reviewed_at))
        .where(Review.user_id.in_(user_ids))
        .group_by(Review.user_id)
    )
    return {user_id: (count, last) for user_id, count, last in rows}


def _list_args() -> dict[str, str]:
    """The users list's query string from this request (search, filters, page)."""
    return query_args(LIST_ARGS, MAX_QUERY)


def _list_url() -> str:
    return url_for("admin.users", **_list_args())


def _users_page(status: int = 200) -> Response:
    """The users list as a page, or only its results table for htmx search and page links."""
    args = request.args
    q = args.get("q", "").strip()[:MAX_QUERY]
    admins_only = args.get("admins") == "1"
    disabled_only = args.get("disabled") == "1"
    page = paginate(users_query(q, admins_only, disabled_only), PER_PAGE)
    list_args = _list_args()
    # Only the search box and page links target the results; other htmx requests get the page.
    return render(
        "admin/users.html",
        "admin/_users_results.html",
        status=status,
        target=RESULTS_ID,
        page=page,
        stats=review_stats([u.id for u in page.items]),
        q=q,
        admins_only=admins_only,
        disabled_only=disabled_only,
        list_args=list_args,
        filter_args={k: v for k, v in list_args.items() if k != "page"},
        results_id=RESULTS_ID,
    )


@bp.get("/users")
def users() -> Response:
    """Find users by email or name, optionally only admins or disabled accounts, newest first."""
    return _users_page()


def _locked_target(user_id: int) -> tuple[User, int]:
    """The user to change and the number of active admins, both locked for this transaction.

    Admin rows are always locked first and in id order, so two admins acting at once queue up instead
    of deadlocking, and neither can remove the last active admin behind the other's back.
    """
    active_admins = db.session.scalars(
        db.select(User.id)
        .where(User.is_admin == true(), User.is_active == true())
        .order_by(User.id)
        .with_for_update()
    ).all()
    target = db.session.get(User, user_id, with_for_update=True, populate_existing=True)
    if target is None:
        abort(404)
    return target, len(active_admins)


def _refuse(message: str) -> Response:
    """Nothing changed: 409 with the reason (in #alerts for htmx, on the users page otherwise)."""
    db.session.rollback()

    def page() -> Response:
        flash(message, "error")
        return _users_page(status=409)

    return alert(409, "Not changed", message, page)


def _done(target: User, message: str, category: str = "success") -> Response:
    """After a change (or a no-op): the updated row for htmx, else a 303 back to the same list."""

    def row() -> Response:
        return make_response(
            render_template(
                "admin/_user_row.html",
                u=target,
                stats=review_stats([target.id]),
                list_args=_list_args(),
                message=message,
                category=category,
            )
        )

    return after_write(_list_url(), message, fragment=row, category=category)


@bp.post("/users/<int:user_id>/admin")
@write_transaction()
def set_admin(user_id: int) -> Response:
    """Make a user an admin, or remove admin rights (never from the last active admin)."""
    action = request.form.get("action")
    if action not in ("promote", "demote"):
        abort(400)
    target, active_admins = _locked_target(user_id)
    make_admin = action == "promote"
    if target.is_admin == make_admin:
        db.session.rollback()
        state = "already an admin" if make_admin else "not an admin"
        return _done(target, f"{target.email} is {state}; nothing changed.", "info")
    if not make_admin and target.is_active and active_admins <= 1:
        return _refuse(
            f"{target.email} is the last active admin, so they cannot be demoted. "
            "Make someone else an admin first."
        )
    target.is_admin = make_admin
    if make_admin:
        audit.record("user.promote", target, f"Made {target.email} an admin", email=target.email)
        message = f"{target.email} is now an admin. Nothing else about the account changed."
    else:
        audit.record("user.demote", target, f"Removed admin rights from {target.email}", email=target.email)
        message = f"{target.email} is no longer an admin. Nothing else about the account changed."
    demoted_self = not make_admin and target.id == current_user.id
    db.session.commit()
    if demoted_self:
        # The admin area is closed to them from now on; land somewhere they can still see.
        flash(f"You are no longer an admin ({target.email}).", "success")
        return redirect_to(url_for("core.index"))
    return _done(target, message)


@bp.post("/users/<int:user_id>/active")
@write_transaction()
def set_active(user_id: int) -> Response:
    """Disable an account (signing it out everywhere) or enable it again; passwords and progress stay."""
    action = request.form.get("action")
    if action not in ("disable", "enable"):
        abort(400)
    target, active_admins = _locked_target(user_id)
    enable = action == "enable"
    if target.is_active == enable:
        db.session.rollback()
        state = "already enabled" if enable else "already disabled"
        return _done(target, f"{target.email} is {state}; nothing changed.", "info")
    if not enable and target.is_admin and active_admins <= 1:
        return _refuse(
            f"{target.email} is the last active admin, so they cannot be disabled. "
            "Make someone else an admin first."
        )
    if not enable and target.id == current_user.id:
        return _refuse("You cannot disable your own account. Ask another admin to do it.")
    target.is_active = enable
    if enable:
        audit.record("user.enable", target, f"Enabled {target.email}", email=target.email)
        message = (
            f"{target.email} is enabled and can sign in again with their existing password. "
            "Their progress is unchanged."
        )
    else:
        ended = revoke_sessions(target, keep_current=False)
        audit.record(
            "user.disable",
            target,
            f"Disabled {target.email} and ended {ended} sign-in{'' if ended == 1 else 's'}",
            email=target.email,
            sessions_ended=ended,
        )
        message = (
            f"{target.email} is disabled and was signed out of {ended} sign-in{'' if ended == 1 else 's'}. "
            "They cannot sign in until enabled; their password and progress are unchanged."
        )
    db.session.commit()
    return _done(target, message)
