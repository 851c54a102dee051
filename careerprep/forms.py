"""The base form every CareerPrep form uses, and helpers shared by the feature forms."""

from __future__ import annotations

from decimal import Decimal

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import CombinedMultiDict
from wtforms import DecimalField, IntegerField
from wtforms.validators import InputRequired, NumberRange


class Form(FlaskForm):
    """A Flask-WTF form that reads form-encoded bodies (and uploads) only.

    Flask-WTF also reads a JSON body into the form, where a field can then receive a dict, a list or
    a number, and WTForms' filters and validators fail on them with a 500. Our pages only ever post
    forms, so a JSON body is ignored: the form sees no values and answers with its usual messages.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:  # the caller passed its own data (or None)
                return formdata
            if not _is_submitted():
                return None
            if request.files:
                return CombinedMultiDict((request.files, request.form))
            return request.form


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN, sNaN and Infinity (NumberRange cannot compare them)."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class PercentField(FiniteDecimalField):
    """A share shown and typed as a percentage ("90", "90 %"); a fraction ("0.9") is read as one too.

    `data` is the fraction (0.9), as the model stores it.
    """

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{Decimal(str(self.data)) * 100:.0f}"

    def process_formdata(self, valuelist: list) -> None:
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        super().process_formdata([text] if valuelist else valuelist)
        if isinstance(self.data, Decimal) and 1 < self.data <= 100:  # a huge number stays out of range
            self.data = self.data / 100


def number_field(label: str, low: int, high: int, missing: str, out_of_range: str, **options) -> IntegerField:
    """A whole-number field between `low` and `high`, with the messages for empty and out of range."""
    return IntegerField(
        label,
        validators=[InputRequired(missing), NumberRange(low, high, out_of_range)],
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
        **options,
    )


def strip_whitespace(value: str | None) -> str | None:
    """A WTForms filter: trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value
