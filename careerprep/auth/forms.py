"""Sign-up and sign-in forms."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..forms import Form, strip_whitespace
from .services import MAX_PASSWORD, MIN_PASSWORD, password_problem

EMAIL_RE = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"


def new_password_fields(label: str, confirm_label: str, name: str) -> tuple[PasswordField, PasswordField]:
    """A new password (length rules) and its confirmation, shared by sign-up and password change."""
    return (
        PasswordField(
            label,
            description=f"{MIN_PASSWORD} to {MAX_PASSWORD} characters. A long passphrase is best.",
            validators=[DataRequired(), _password_rules],
        ),
        PasswordField(confirm_label, validators=[DataRequired(), EqualTo(name, "Passwords differ.")]),
    )


def _password_rules(_form: Form, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


class LoginForm(Form):
    email = EmailField("Email", filters=[strip_whitespace], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField("Keep me signed in on this device")


class RegisterForm(Form):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=80)])
    email = EmailField(
        "Email",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=254), Regexp(EMAIL_RE, message="Enter an email address.")],
    )
    password, confirm = new_password_fields("Password", "Repeat password", "password")
    # Filled in by the page's script from the browser (Intl); an unknown zone is ignored (UTC).
    timezone = HiddenField()
