"""Flask extensions, created unbound and bound to an app in create_app."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay loaded after a commit: a view that commits and then renders (the next card after a
# rating) would otherwise reload the user, the role and the new review, one query each.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address)


def init_app(app: Flask) -> None:
    """Bind the extensions to the app (the login manager is set up by careerprep.auth)."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _limits_where_declared(app)
    login_manager.init_app(app)


def _limits_where_declared(app: Flask) -> None:
    """Drop Flask-Limiter's before-request check while no limit applies beyond single views.

    That hook applies default, application-wide, blueprint and meta limits, of which CareerPrep has
    none: a view's own `@limiter.limit` is checked by its decorator, and the limits that guard a password
    (careerprep.limits) count before the check. Resolving "no limits" cost every request, /healthz
    included, some 50 us (issue 21's per-request floor). Configure a default limit and the hook stays.
    """
    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or getattr(manager, "_blueprint_limits", None)
        or limiter._meta_limits
        or app.config.get("RATELIMIT_DEFAULT")
        or app.config.get("RATELIMIT_APPLICATION")
        or app.config.get("RATELIMIT_META")
    ):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # absent when limits are off (RATELIMIT_ENABLED=False)
        hooks.remove(limiter._check_request_limit)
