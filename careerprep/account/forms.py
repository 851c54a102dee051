"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from ..auth.forms import new_password_fields
from ..auth.services import MAX_PASSWORD


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    new, confirm = new_password_fields("New password", "Repeat new password", "new")


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for a one-click action."""
