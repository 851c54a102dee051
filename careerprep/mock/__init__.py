from flask import Blueprint

bp = Blueprint("mock", __name__)

from . import views  # noqa: E402,F401
