"""The admin area: authoring, import and export, reports, users, the audit log."""

from . import audit_views, authoring, questions, reports, transfer, users, views  # noqa: F401 (routes)
from .blueprint import bp

__all__ = ["bp"]
