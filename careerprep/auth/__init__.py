"""Signing up, in and out: accounts, server-side sign-ins and Flask-Login's set-up."""

from ..extensions import login_manager
from . import views
from .services import load_user
from .views import bp

__all__ = ["bp", "init_login"]


def init_login() -> None:
    """Flask-Login: who is signed in (one query per request), and where visitors are sent."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(views.unauthorized)
