"""Admin forms."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..banks.rules import KEY_POINT_CHARS, KEY_POINTS, LIMITS, MAX_TAGS, MAX_TEXT, SLUG_RE
from ..forms import Form, strip_whitespace

# -- authoring -----------------------------------------------------------------------------------------

SLUG = Regexp(SLUG_RE, message="Use lowercase letters, digits and hyphens.")


def _slug_field(label: str = "Slug", limit: str = "slug", description: str | None = None) -> StringField:
    """A required slug (lowercase letters, digits, hyphens) within the bank rules' length."""
    return StringField(
        label,
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=LIMITS[limit]), SLUG],
        description=description,
    )


def _title_field() -> StringField:
    """A required title within the bank rules' length."""
    return StringField(
        "Title", filters=[strip_whitespace], validators=[DataRequired(), Length(max=LIMITS["title"])]
    )


class RoleForm(Form):
    slug = _slug_field(description="Part of the address: /roles/<slug>. Lowercase, hyphens.")
    title = _title_field()
    summary = TextAreaField(
        "Summary",
        filters=[strip_whitespace],
        validators=[Length(max=LIMITS["summary"])],
        description="What the job is and what interviews probe, in a paragraph.",
    )


class SetForm(Form):
    slug = _slug_field()
    title = _title_field()
    description = TextAreaField(
        "Description", filters=[strip_whitespace], validators=[Length(max=LIMITS["summary"])]
    )
    published = BooleanField("Published (visible to learners)")


class QuestionForm(Form):
    key = _slug_field("Key", "key", "Stable id within the set; imports update questions by key.")
    prompt = TextAreaField(
        "Prompt (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        render_kw={"rows": 5},
    )
    answer = TextAreaField(
        "Model answer (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        render_kw={"rows": 14},
    )
    key_points = TextAreaField(
        "Key points, one per line",
        filters=[strip_whitespace],
        description=f"{KEY_POINTS[0]} to {KEY_POINTS[1]} things a good answer must cover.",
        render_kw={"rows": 6},
    )
    category = StringField(
        "Category", filters=[strip_whitespace], validators=[DataRequired(), Length(max=LIMITS["category"])]
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
        low, high = KEY_POINTS
        if not low <= len(points) <= high:
            raise ValidationError(f"Give {low} to {high} key points, one per line (you have {len(points)}).")
        if any(len(p) > KEY_POINT_CHARS for p in points):
            raise ValidationError(f"Keep each key point under {KEY_POINT_CHARS} characters.")

    def validate_tags(self, field: StringField) -> None:
        tags = self.tag_list()
        bad = [t for t in tags if not SLUG.regex.match(t) or len(t) > LIMITS["tag"]]
        if bad:
            raise ValidationError(f"Tags use lowercase letters, digits and hyphens: {', '.join(bad)}.")
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"Use at most {MAX_TAGS} tags.")


class ResolveForm(Form):
    note = TextAreaField(
        "Note (optional)", filters=[strip_whitespace], validators=[Length(max=LIMITS["summary"])]
    )
