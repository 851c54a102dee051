"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..auth.services import MAX_PASSWORD, MIN_PASSWORD, password_problem


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    new = PasswordField(
        "New password",
        description=f"{MIN_PASSWORD} to {MAX_PASSWORD} characters.",
        validators=[DataRequired()],
    )
    confirm = PasswordField(
        "Repeat new password", validators=[DataRequired(), EqualTo("new", "Passwords differ.")]
    )

    def validate_new(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class ConfirmForm(FlaskForm):
    """A button-only form: CSRF protection for a one-click action."""
