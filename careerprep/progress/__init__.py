"""Your progress: the dashboard and each role."""

from .views import bp

__all__ = ["bp"]
