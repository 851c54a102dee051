"""Admin forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class UploadBankForm(FlaskForm):
    bank = FileField(
        "Question bank file",
        description="YAML or JSON in the bank format, up to 1 MiB.",
        validators=[
            FileRequired("Choose a file to upload."),
            FileAllowed(["yaml", "yml", "json"], "Upload a .yaml, .yml or .json file."),
        ],
    )
