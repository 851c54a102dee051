"""The drill, and each card's history, attempts and reports."""

from . import card_views, views  # noqa: F401 (routes)
from .blueprint import bp

__all__ = ["bp"]
