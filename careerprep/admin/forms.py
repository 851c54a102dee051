"""Admin forms."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..forms import Form, strip_whitespace


class UploadBankForm(Form):
    bank = FileField(
        "Question bank file",
        description="YAML or JSON in the bank format, up to 1 MiB.",
        validators=[
            FileRequired("Choose a file to upload."),
            FileAllowed(["yaml", "yml", "json"], "Upload a .yaml, .yml or .json file."),
        ],
    )


# -- authoring -----------------------------------------------------------------------------------------

SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lowercase letters, digits and hyphens.")


class RoleForm(Form):
    slug = StringField(
        "Slug",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=80), SLUG],
        description="Part of the address: /roles/<slug>. Lowercase, hyphens.",
    )
    title = StringField("Title", filters=[strip_whitespace], validators=[DataRequired(), Length(max=120)])
    summary = TextAreaField(
        "Summary",
        filters=[strip_whitespace],
        validators=[Length(max=2000)],
        description="What the job is and what interviews probe, in a paragraph.",
    )


class SetForm(Form):
    slug = StringField("Slug", filters=[strip_whitespace], validators=[DataRequired(), Length(max=80), SLUG])
    title = StringField("Title", filters=[strip_whitespace], validators=[DataRequired(), Length(max=120)])
    description = TextAreaField("Description", filters=[strip_whitespace], validators=[Length(max=2000)])
    published = BooleanField("Published (visible to learners)")


class QuestionForm(Form):
    key = StringField(
        "Key",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=120), SLUG],
        description="Stable id within the set; imports update questions by key.",
    )
    prompt = TextAreaField(
        "Prompt (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=20_000)],
        render_kw={"rows": 5},
    )
    answer = TextAreaField(
        "Model answer (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=20_000)],
        render_kw={"rows": 14},
    )
    key_points = TextAreaField(
        "Key points, one per line",
        filters=[strip_whitespace],
        description="3 to 6 things a good answer must cover.",
        render_kw={"rows": 6},
    )
    category = StringField(
        "Category", filters=[strip_whitespace], validators=[DataRequired(), Length(max=120)]
    )
    difficulty = SelectField(
        "Difficulty",
        choices=["1", "2", "3"],
        validate_choice=True,
        description="1 fundamental, 2 intermediate, 3 advanced.",
    )
    tags = StringField("Tags, comma-separated", filters=[strip_whitespace], validators=[Length(max=500)])

    @staticmethod
    def data_for(question) -> dict:
        """A stored question as the text the editor shows (key points one per line, tags by commas)."""
        return {
            "key": question.key,
            "prompt": question.prompt,
            "answer": question.answer,
            "key_points": "\n".join(question.key_points),
            "category": question.category,
            "difficulty": str(question.difficulty),
            "tags": ", ".join(question.tags),
        }

    def point_list(self) -> list[str]:
        return [line.strip() for line in (self.key_points.data or "").splitlines() if line.strip()]

    def tag_list(self) -> list[str]:
        return list(dict.fromkeys(t.strip().lower() for t in (self.tags.data or "").split(",") if t.strip()))

    def validate_key_points(self, field: TextAreaField) -> None:
        points = self.point_list()
        if not 3 <= len(points) <= 6:
            raise ValidationError(f"Give 3 to 6 key points, one per line (you have {len(points)}).")
        if any(len(p) > 300 for p in points):
            raise ValidationError("Keep each key point under 300 characters.")

    def validate_tags(self, field: StringField) -> None:
        tags = self.tag_list()
        bad = [t for t in tags if not SLUG.regex.match(t) or len(t) > 40]
        if bad:
            raise ValidationError(f"Tags use lowercase letters, digits and hyphens: {', '.join(bad)}.")
        if len(tags) > 12:
            raise ValidationError("Use at most 12 tags.")


class ResolveForm(Form):
    note = TextAreaField("Note (optional)", filters=[strip_whitespace], validators=[Length(max=2000)])
