"""The CLI blueprint (no command group): `flask --app app <command>`."""

from flask import Blueprint

bp = Blueprint("cli", __name__, cli_group=None)
