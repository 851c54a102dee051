"""Command-line tasks (`flask --app app <command>`), one module per topic."""

from . import commands, speech, transfer  # noqa: F401 (commands)
from .blueprint import bp

__all__ = ["bp"]
