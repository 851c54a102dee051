from flask import Blueprint

from ..extensions import login_manager

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import views  # noqa: E402
from .services import load_user  # noqa: E402


def init_login() -> None:
    """Flask-Login: who is signed in (one query per request), and where visitors are sent."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(views.unauthorized)
