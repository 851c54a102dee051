"""Colour themes: the user's saved choice, a visitor's choice for this visit, or the system's."""

from __future__ import annotations

from flask import session
from flask_login import current_user

THEMES = ("system", "dark", "light")


def current_theme() -> str:
    """The theme to render: the user's saved choice, a visitor's session choice, or "system"."""
    if current_user.is_authenticated:
        return current_user.theme if current_user.theme in THEMES else "system"
    return session.get("theme", "system")


def theme_context() -> dict:
    """The theme for base.html, and the one the toggle switches to next."""
    theme = current_theme()
    return {"theme": theme, "next_theme": THEMES[(THEMES.index(theme) + 1) % len(THEMES)]}
