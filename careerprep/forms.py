"""Helpers shared by the feature forms."""

from __future__ import annotations


def strip_whitespace(value: str | None) -> str | None:
    """A WTForms filter: trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value
