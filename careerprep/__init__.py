"""CareerPrep: interview preparation with spaced-repetition flashcards."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error pages and CLI."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import config
    from .web import IdConverter

    # Before any blueprint registers its rules: every <int:…> becomes a bounded id.
    app.url_map.converters["int"] = IdConverter
    config.load(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)

    from . import assets, cli, errors, templating, web

    web.register(app)
    assets.register(app)
    errors.register(app)
    templating.register(app)
    from . import cli_transfer  # noqa: F401  (registers import-questions, export-questions on cli.bp)

    app.register_blueprint(cli.bp)
    return app


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (registers the models on the metadata)
    from .auth.services import load_user
    from .extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    models.register_engine_hooks(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    from .auth.views import unauthorized

    login_manager.unauthorized_handler(unauthorized)


def _register_blueprints(app: Flask) -> None:
    from .account import bp as account_bp
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .catalog import bp as catalog_bp
    from .core import bp as core_bp
    from .deck import bp as deck_bp
    from .mock import bp as mock_bp
    from .practice import bp as practice_bp
    from .progress import bp as progress_bp

    for bp in (core_bp, auth_bp, account_bp, catalog_bp, practice_bp, mock_bp, progress_bp, admin_bp):
        app.register_blueprint(bp)
    app.register_blueprint(deck_bp)
