"""The rules a question must follow, in one place: the bank validator, the admin editor and the drill
read these numbers (so a limit is never written twice)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # a question's permanent id (`id` in bank files)
MAX_TEXT = 20_000  # a prompt, an answer, a description, a learner's draft (characters)
KEY_POINTS = (3, 6)  # how many key points a question has
KEY_POINT_CHARS = 300
# A key point's author terms for the detector (banks/points.py): alternatives and required terms.
MAX_POINT_TERMS = 12  # terms in a point's `terms`, or in one group of `required`
MAX_REQUIRED_GROUPS = 4
TERM_CHARS = 80
MAX_TAGS = 12
LIMITS = {"slug": 80, "title": 120, "key": 120, "category": 120, "tag": 40, "summary": 2000, "uid": 64}
DIFFICULTIES = (1, 2, 3)
DIFFICULTY_LABELS = {1: "Fundamental", 2: "Intermediate", 3: "Advanced"}
# The question fields an import copies onto a stored question (and compares, for the preview).
QUESTION_COPY = (
    "kind",
    "prompt",
    "code",
    "language",
    "exercise",
    "answer",
    "key_points",
    "key_point_terms",
    "category",
    "difficulty",
    "tags",
    "position",
)

# The limits of exercise fields (careerprep/exercises.py lists the kinds and the fields each one uses).
CODE_CHARS = 12_000  # a listing, a solution or a test harness
CODE_LINES = 200
OUTPUT_CHARS = 4_000  # one accepted output of a predict question
MAX_ACCEPTED = 8
MAX_BUG_LINES = 5
FOLLOW_UPS = (1, 4)
PLATFORM_CHARS = 120
RUN_ITEMS = 12  # compiler flags or arguments for the content tests' run of a snippet


_md = MarkdownIt("commonmark")


def relative_images(text: str) -> list[str]:
    """The image addresses in Markdown that are not absolute http(s) URLs (nothing could show them)."""
    found = []
    for token in _md.parse(text):
        for child in token.children or ():
            src = str(child.attrGet("src") or "") if child.type == "image" else ""
            if child.type == "image" and not src.lower().startswith(("https://", "http://")):
                found.append(src)
    return found
