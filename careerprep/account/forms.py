"""Account forms."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, SelectField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..auth.forms import new_password_fields
from ..auth.services import MAX_PASSWORD
from ..forms import Form, PercentField, number_field
from ..localtime import ZONES


class ChangePasswordForm(Form):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    new, confirm = new_password_fields("New password", "Repeat new password", "new")


class ConfirmForm(Form):
    """A button-only form: CSRF protection for a one-click action."""


class SettingsForm(Form):
    """How you study: daily limits, retention, drafting, mock defaults and time zone."""

    new_per_day = number_field("New questions per day (per role)", 0, 200, "Enter a number.", "Use 0 to 200.")
    max_reviews_per_day = number_field(
        "Maximum reviews per day (per role)", 1, 9999, "Enter a number.", "Use 1 to 9999."
    )
    desired_retention = PercentField(
        "Aim to remember (% of cards when they come back)",
        places=4,
        description="90 is a good balance. Aiming higher means more reviews for a little more certainty: "
        "95 roughly doubles the reviews of 90, and 80 halves them but you will forget more. "
        "(This is FSRS's “desired retention”.)",
        render_kw={"inputmode": "numeric"},
        validators=[
            InputRequired("Enter a percentage such as 90."),
            NumberRange(0.70, 0.97, "Use 70 to 97 (percent)."),
        ],
    )
    draft_enabled = BooleanField("Show a “Draft your answer” box before the reveal")
    keep_recordings = BooleanField(
        "Keep my recorded answers",
        description="Off: a recording is deleted as soon as it is transcribed. On: it is kept with the "
        "transcript, included in your data export and deleted with your account.",
    )
    mock_questions = number_field("Mock interview: questions", 1, 15, "Enter a number.", "Use 1 to 15.")
    mock_minutes = number_field(
        "Mock interview: minutes per question", 1, 30, "Enter a number.", "Use 1 to 30."
    )
    timezone = SelectField(
        "Time zone",
        description="Days (daily limits, streaks, “today”) start at midnight here.",
        choices=ZONES,
        validate_choice=True,
    )


class DeleteAccountForm(Form):
    """Deleting the account: the password again and an explicit confirmation."""

    password = PasswordField(
        "Your password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD)]
    )
    confirm = BooleanField(
        "I understand this deletes all my progress permanently",
        validators=[DataRequired("Tick the box to confirm.")],
    )
