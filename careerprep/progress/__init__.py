from flask import Blueprint

bp = Blueprint("progress", __name__)

from . import views  # noqa: E402,F401
