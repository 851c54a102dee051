"""CareerPrep: interview preparation with spaced-repetition flashcards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error pages and CLI.

    The imports live here: importing the package must not import every module (the migrations and
    the benchmarks import single modules of it).
    """
    from . import (
        account,
        admin,
        assets,
        auth,
        catalog,
        cli,
        config,
        core,
        errors,
        extensions,
        mock,
        models,
        personal,
        practice,
        progress,
        recordings,
        templating,
        web,
    )

    app = web.App(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Before any blueprint registers its rules: every <int:…> becomes a bounded id.
    app.url_map.converters["int"] = web.IdConverter
    config.load(app, test_config)
    extensions.init_app(app)
    models.register_engine_hooks(app)
    auth.init_login()
    for package in (core, auth, account, catalog, practice, mock, recordings, progress, personal, admin, cli):
        app.register_blueprint(package.bp)
    web.register(app)
    assets.register(app)
    errors.register(app)
    templating.register(app)
    recordings.register(app)
    return app
