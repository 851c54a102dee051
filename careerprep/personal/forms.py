"""The scheduler's settings: Easy Days, load balancing, sharing reviews for the role defaults."""

from __future__ import annotations

from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ..forms import Form
from ..scheduling.balance import WEEKDAYS

SHARES = (100, 75, 50, 25, 0)  # Easy Days: a day's share of a normal day's reviews, in percent
DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


SHARE_MESSAGE = "Choose one of " + ", ".join(f"{share}%" for share in SHARES) + "."


class ShareField(SelectField):
    """A weekday's share, with one clear message for anything that is not one of SHARES."""

    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(SHARE_MESSAGE) from exc

    def pre_validate(self, form) -> None:
        if self.data not in SHARES and not self.process_errors:
            raise ValidationError(SHARE_MESSAGE)


def _share_field(day: str) -> ShareField:
    return ShareField(
        DAY_NAMES[day],
        choices=[SelectChoice(str(share), f"{share}%") for share in SHARES],
        coerce=int,
        default=100,
        validate_choice=True,
    )


class ConfirmForm(Form):
    """A button-only form: CSRF protection for a one-click action."""


class SchedulerSettingsForm(Form):
    """Easy Days (a share per weekday), load balancing, and the opt-out from role defaults."""

    easy_days_on = BooleanField("Use Easy Days: fewer reviews on the days you choose")
    mon, tue, wed, thu, fri, sat, sun = (_share_field(day) for day in WEEKDAYS)
    load_balance = BooleanField("Balance my load: spread reviews so each day has about as many")
    share_reviews = BooleanField(
        "Let my reviews (without my name) help fit the starting scheduler for everyone studying my roles"
    )

    def shares(self) -> list[int]:
        return [self[day.lower()].data for day in WEEKDAYS]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.easy_days_on.data and not any(self.shares()):
            self.sun.errors.append("At least one day needs some reviews: set a day above 0%.")
            return False
        return True

    @classmethod
    def for_user(cls, user) -> SchedulerSettingsForm:
        """The form filled with the user's current settings."""
        form = cls(formdata=None)
        form.easy_days_on.data = user.easy_days is not None
        for day, share in zip(WEEKDAYS, user.easy_days or [100] * 7, strict=True):
            form[day.lower()].data = share
        form.load_balance.data = user.load_balance
        form.share_reviews.data = user.share_reviews
        return form
