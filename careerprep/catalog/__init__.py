"""Roles, a role's page and its interview date, the Anki deck."""

from .views import bp

__all__ = ["bp"]
