"""Admin forms."""

from __future__ import annotations

from flask import request
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from ..banks.rules import KEY_POINT_CHARS, KEY_POINTS, LIMITS, MAX_TAGS, MAX_TEXT, SLUG_RE
from ..exercises import KINDS, LANGUAGES, UNITS
from ..forms import Form, strip_whitespace
from .question_kinds import OUTPUT_SEPARATOR, carried, editor_data, follow_up_rows, point_items, unix_newlines

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


CODE_BOX = {
    "rows": 12,
    "class": "code-input",
    "spellcheck": "false",
    "autocapitalize": "off",
    "autocomplete": "off",
}
NUMBER_BOX = {"inputmode": "decimal", "autocomplete": "off", "maxlength": 40}
# What the code box holds, by kind (the other kinds do not show it).
CODE_LABELS = {
    "predict": "Code",
    "spot_bug": "Code",
    "write_code": "Starter code (optional)",
    "read_output": "Tool output",
}
CODE_HINTS = {
    "predict": "A complete program that compiles as it is. Line numbers count exactly as written.",
    "spot_bug": "A complete translation unit. Line 1 is the first line; the preview numbers them.",
    "write_code": "Shown in the learner's answer box: the includes and the signature.",
    "read_output": "The artifact, verbatim-looking and self-consistent (columns add up, units right).",
}
SOLUTION_LABELS = {"spot_bug": "The fixed code", "write_code": "Reference solution"}
ANSWER_HINTS = {
    "predict": "The explanation shown after the check: why it prints that.",
    "spot_bug": "What goes wrong, when, and why the fix works.",
    "write_code": "The approach, its complexity and the pitfalls.",
    "read_output": "What the output shows and what to do next.",
    "design": "The model design, with the arithmetic.",
}


class QuestionForm(Form):
    """A question of any kind: the fields every question has, and those of each exercise kind.

    The form keeps text as typed; `question_kinds` turns it into a bank-format question and checks it
    with the bank validator. `follow_ups` (prompt/answer pairs) are read from the request here."""

    kind = SelectField(
        "Kind of question",
        choices=[SelectChoice(name, kind.label) for name, kind in KINDS.items()],
        default="recall",
        validate_choice=True,
    )
    key = _slug_field("Key", "key", "Stable id within the set; imports update questions by key.")
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
    prompt = TextAreaField(
        "Prompt (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        render_kw={"rows": 5},
    )
    # The fields exercise kinds add (careerprep/exercises.py KINDS says which kind uses which).
    code = TextAreaField("Code", filters=[unix_newlines], render_kw=CODE_BOX)
    language = SelectField(
        "Language",
        choices=[SelectChoice("", "Choose a language"), *(SelectChoice(k, v) for k, v in LANGUAGES.items())],
        validate_choice=False,
    )
    platform = StringField(
        "Platform (optional)",
        filters=[strip_whitespace],
        description="Say it whenever the output depends on it, e.g. x86-64 Linux, glibc.",
    )
    accepted = TextAreaField(
        "Accepted outputs",
        filters=[unix_newlines],
        description=f"The whole output, as the program prints it. When more than one output counts as right, "
        f"put a line containing only {OUTPUT_SEPARATOR} between them.",
        render_kw={**CODE_BOX, "rows": 6},
    )
    any_order = BooleanField("Lines may come in any order")
    exact_whitespace = BooleanField("Spaces count exactly (otherwise runs of spaces count as one)")
    bug_lines = StringField(
        "Faulty lines",
        filters=[strip_whitespace],
        description="Line numbers of the code, separated by commas (line 1 is the first; the preview "
        "numbers them).",
        render_kw={"autocomplete": "off", "maxlength": 200},
    )
    solution = TextAreaField("Reference solution", filters=[unix_newlines], render_kw=CODE_BOX)
    tests = TextAreaField(
        "Tests (optional)",
        filters=[unix_newlines],
        description="A harness appended after the solution in one file; has main() and exits 0 when "
        "every test passes.",
        render_kw=CODE_BOX,
    )
    estimate_prompt = StringField("What to estimate", filters=[strip_whitespace])
    estimate_value = StringField("Your estimate", filters=[strip_whitespace], render_kw=NUMBER_BOX)
    estimate_unit = SelectField(
        "Unit",
        choices=[SelectChoice("", "Choose a unit"), *(SelectChoice(u, u) for u in UNITS)],
        validate_choice=False,
    )
    estimate_low = StringField("Lowest accepted", filters=[strip_whitespace], render_kw=NUMBER_BOX)
    estimate_high = StringField("Highest accepted", filters=[strip_whitespace], render_kw=NUMBER_BOX)
    answer = TextAreaField(
        "Model answer (Markdown)",
        filters=[strip_whitespace],
        validators=[DataRequired(), Length(max=MAX_TEXT)],
        render_kw={"rows": 14},
    )
    key_points = TextAreaField("Key points, one per line", filters=[strip_whitespace], render_kw={"rows": 6})
    key_point_terms = TextAreaField(
        "Terms for the answer check (optional), one line per key point",
        description="Line N helps detect point N in a typed answer: alternatives and synonyms "
        "separated by |, then “; required:” and terms of which one must appear (fork | duplicates the "
        "process | clone ; required: fork | clone). Leave a line empty for a point without terms.",
        render_kw={"rows": 6},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stored = (kwargs.get("data") or {}).get("follow_ups")
        self.follow_ups = follow_up_rows(request.form if self.is_submitted() else None, stored)
        self.group_errors: dict[str, list[str]] = {"follow_ups": [], "estimate": []}
        self.other_errors: list[str] = []
        self._fit_kind()

    @staticmethod
    def data_for(question) -> dict:
        """A stored question as the text the editor shows (key points one per line, tags by commas)."""
        return editor_data(question)

    @property
    def kind_name(self) -> str:
        """The kind whose fields the editor shows (recall for anything unknown)."""
        return self.kind.data if self.kind.data in KINDS else "recall"

    @property
    def uses(self) -> tuple[str, ...]:
        """The exercise fields the chosen kind uses."""
        return KINDS[self.kind_name].fields

    @property
    def refreshing(self) -> bool:
        """Sent to show another kind's fields or the preview, not to save."""
        return self.is_submitted() and bool(request.form.get("refresh"))

    def _fit_kind(self) -> None:
        """Labels and hints that depend on the kind."""
        kind = self.kind_name
        low, high = KINDS[kind].key_points or KEY_POINTS
        self.key_points.description = f"{low} to {high} things a good answer must cover."
        self.code.label.text = CODE_LABELS.get(kind, "Code")
        self.code.description = CODE_HINTS.get(kind)
        self.solution.label.text = SOLUTION_LABELS.get(kind, "Reference solution")
        self.answer.description = ANSWER_HINTS.get(kind)
        if kind == "read_output":
            self.language.description = "Leave it for plain text; choose one when the output is code."

    def point_list(self) -> list[str]:
        return [line.strip() for line in (self.key_points.data or "").splitlines() if line.strip()]

    def point_items(self) -> list:
        """The key points in the bank format, with the terms box's line for each (a mapping if any)."""
        return point_items(self.point_list(), self.key_point_terms.data)

    def tag_list(self) -> list[str]:
        return list(dict.fromkeys(t.strip().lower() for t in (self.tags.data or "").split(",") if t.strip()))

    def carried(self) -> list[tuple[str, str]]:
        """Text typed into fields this kind does not use, sent along hidden."""
        return carried(self)

    def problems(self) -> list[tuple[str | None, str, str]]:
        """(field id, label, messages) for the summary at the top, in the order of the page."""
        found: list[tuple[str | None, str, str]] = []
        for f in self:
            if f.name == "estimate_prompt" and self.group_errors["estimate"]:
                found.append((f.id, "Estimate", " ".join(self.group_errors["estimate"])))
            if f.name == "csrf_token":
                found += [(None, "", "The form expired; send it again.")] if f.errors else []
            elif f.errors:
                found.append((f.id, f.label.text, " ".join(f.errors)))
            if f.name == "answer":
                found += self._follow_up_problems()
        return found + [(None, "", message) for message in self.other_errors]

    def _follow_up_problems(self) -> list[tuple[str | None, str, str]]:
        found: list[tuple[str | None, str, str]] = []
        if self.group_errors["follow_ups"]:
            found.append(("follow_ups-0-prompt", "Follow-ups", " ".join(self.group_errors["follow_ups"])))
        for i, row in enumerate(self.follow_ups):
            for part, words in (("prompt", "question"), ("answer", "answer")):
                if row.errors.get(part):
                    found.append(
                        (f"follow_ups-{i}-{part}", f"Follow-up {i + 1}, {words}", " ".join(row.errors[part]))
                    )
        return found

    def validate_key_points(self, field: TextAreaField) -> None:
        points = self.point_list()
        low, high = KINDS[self.kind_name].key_points or KEY_POINTS
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
