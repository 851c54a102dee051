"""An Anki-ready text file (TSV) for users who import text rather than a deck package.

Anki's text importer reads the file headers below (File → Import, "Notes in Plain Text"): tab as the
separator, HTML kept, the Basic note type, and which columns hold the GUID, the deck and the tags. The
GUID is the one the .apkg uses (from the question's permanent id), so a newer file updates the notes it
added instead of duplicating them. This is not the spreadsheet CSV (banks/csv_bank.py), which is for
editing questions and importing them back into CareerPrep.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from ..models import Question, QuestionSet, Role
from .anki import back_html, deck_groups, deck_name, front_html, key_points_html, note_guid, note_tags

MEDIA_TYPE = "text/tab-separated-values; charset=utf-8"
HEADERS = (
    "#separator:tab",
    "#html:true",
    "#notetype:Basic",
    "#guid column:1",
    "#deck column:2",
    "#tags column:5",
    "#columns:GUID\tDeck\tFront\tBack\tTags",
)


def _one_line(html: str) -> str:
    """HTML on one line: a line break inside a listing becomes <br> (Anki shows both the same)."""
    return html.replace("\r\n", "\n").replace("\n", "<br>")


def rows(role: Role, groups: list[tuple[QuestionSet, list[Question]]]) -> list[list[str]]:
    """One row per note: GUID, deck, front, back (answer and key points), space-separated tags."""
    out = []
    for qset, questions in groups:
        for q in questions:
            back = (
                back_html(q)
                + '<div class="key-points"><strong>Key points</strong>'
                + key_points_html(q)
                + "</div>"
            )
            out.append(
                [
                    note_guid(q.uid),
                    deck_name(role, qset),
                    _one_line(front_html(q)),
                    _one_line(back),
                    " ".join(note_tags(role, qset, q)),
                ]
            )
    return out


def role_tsv(
    role: Role, set_id: int | None = None, progress: Callable[[int], object] | None = None
) -> str | None:
    """A role's (or one set's) published questions as Anki-ready TSV; None when there are none."""
    groups = deck_groups(role, set_id)
    if not groups:
        return None
    buffer = io.StringIO()
    buffer.write("\n".join(HEADERS) + "\n")
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    for row in rows(role, groups):
        writer.writerow(row)
        if progress is not None:
            progress(1)
    return buffer.getvalue()
