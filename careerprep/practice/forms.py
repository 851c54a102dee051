"""Drill forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length

from ..forms import strip_whitespace


class ReportForm(FlaskForm):
    """A learner's report that a question is wrong, unclear or a duplicate."""

    reason = SelectField("What is wrong?", choices=["wrong", "unclear", "duplicate"], validate_choice=True)
    comment = TextAreaField("Details (optional)", filters=[strip_whitespace], validators=[Length(max=2000)])
