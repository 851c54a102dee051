"""The start form of a mock interview."""

from __future__ import annotations

from wtforms import BooleanField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import Form, number_field

MAX_QUESTIONS = 15
MAX_MINUTES = 30


class MockForm(Form):
    questions = number_field(
        "Number of questions",
        1,
        MAX_QUESTIONS,
        "Enter how many questions you want.",
        f"Choose from 1 to {MAX_QUESTIONS} questions.",
        description=f"1 to {MAX_QUESTIONS}.",
    )
    minutes = number_field(
        "Minutes per question",
        1,
        MAX_MINUTES,
        "Enter the minutes you want per question.",
        f"Choose from 1 to {MAX_MINUTES} minutes per question.",
        description=f"1 to {MAX_MINUTES}. A countdown shows the time left for each question.",
    )
    categories = SelectMultipleField(
        "Categories",
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    behavioural = BooleanField("Include one behavioural question", default=True)

    def set_categories(self, counts: list[tuple[str, int]]) -> None:
        """Offer the role's categories (with their question counts) as the choices."""
        self.categories.choices = [(name, f"{name} ({count})") for name, count in counts]

    def validate_categories(self, field: SelectMultipleField) -> None:
        """Only this role's categories; the message names what was not recognised."""
        known = {value for value, _label in field.choices}
        unknown = [value for value in field.data or [] if value not in known]
        if unknown:
            names = ", ".join(name[:60] for name in unknown[:3])
            raise ValidationError(f"Not a category of this role: {names}.")


def clamp(value: int | None, low: int, high: int, fallback: int) -> int:
    """A user setting as a valid default for the form (settings may predate the limits)."""
    if value is None:
        return fallback
    return min(max(int(value), low), high)
