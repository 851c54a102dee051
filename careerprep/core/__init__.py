"""The landing page, the health check and the theme switch."""

from .views import bp

__all__ = ["bp"]
