"""Command-line tasks (`flask --app app <command>`), registered on a blueprint with no group."""

from flask import Blueprint

bp = Blueprint("cli", __name__, cli_group=None)

from . import commands, transfer  # noqa: E402,F401
