"""Browse roles and see what each one covers."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from ..models import utc_now
from ..queries import visible_role
from . import bp
from .services import catalogue, role_overview


def _user():
    return current_user if current_user.is_authenticated else None


@bp.get("/roles")
def roles() -> str:
    """Every published role with its question count and, signed in, your due and new cards."""
    return render_template("catalog/roles.html", cards=catalogue(_user(), utc_now()))


@bp.get("/roles/<slug>")
def role(slug: str) -> str:
    """A role's summary, sets and categories, your progress on it, and "Start drilling"."""
    found = visible_role(slug)
    if found is None:
        abort(404)
    return render_template("catalog/role.html", role=found, overview=role_overview(found, _user(), utc_now()))
