"""Drill forms."""

from __future__ import annotations

from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from ..forms import Form, strip_whitespace


class ReportForm(Form):
    """A learner's report that a question is wrong, unclear or a duplicate."""

    reason = SelectField("What is wrong?", choices=["wrong", "unclear", "duplicate"], validate_choice=True)
    comment = TextAreaField("Details (optional)", filters=[strip_whitespace], validators=[Length(max=2000)])
