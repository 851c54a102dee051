"""Banks as CSV, for spreadsheets: one role and one question per row.

CSV holds one role and one question per row, under a header row with exactly these columns:

    role_slug, role_title, role_summary, set_slug, set_title, set_description,
    key, prompt, answer, key_points, category, difficulty, tags

- The role and set columns repeat on every row and must agree across the rows of one role or set.
  A file may hold several sets of one role; sets and questions keep the order of their rows.
- ``key_points``: one point per line within the cell (or separated by `` | `` on one line).
- Key points with detector terms (``{text, terms, required}`` in YAML or JSON) have no CSV column: a
  CSV export of a question with terms is refused, naming it; use YAML or JSON for those.
- ``tags``: separated by commas. ``difficulty``: 1, 2 or 3.
- Optional columns ``kind``, ``language`` and ``code`` carry the exercise kinds that fit in a cell:
  ``recall`` (the default when the column is missing or empty) and ``read_output`` (``code`` holds
  the tool's output). The other kinds need lists and nested fields (accepted outputs, faulty lines,
  follow-ups, an estimate): a CSV cannot carry them, so an import refuses them by row and a CSV export
  leaves them out (the export page says how many); use YAML or JSON for those.
- A cell may not start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, which
  spreadsheets run as formulas. Text that must start with one of them is written with a leading
  apostrophe (``'- first item``), which is removed on import; CSV exports do this themselves.
- CSV has no ``published`` column: a set created from CSV is published, an existing set keeps its
  status (imports never change it).
- Optional column ``id``: the question's permanent id (exports fill it in; keep it when editing, so
  a changed key updates the question instead of adding another).
- UTF-8, with or without a byte-order mark.
- This is the spreadsheet format, not one for Anki's text importer: for Anki use the .apkg deck or
  the Anki-ready TSV (``flask export-questions --format anki-tsv``).

Errors name ``row N`` (the header is row 1) and the column, so a spreadsheet user can find the cell.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..exercises import KINDS
from .errors import BankError

MAX_QUESTIONS = 2000
CSV_COLUMNS = (
    "role_slug",
    "role_title",
    "role_summary",
    "set_slug",
    "set_title",
    "set_description",
    "key",
    "prompt",
    "answer",
    "key_points",
    "category",
    "difficulty",
    "tags",
)
OPTIONAL_COLUMNS = ("id", "kind", "language", "code")
CSV_KINDS = ("recall", "read_output")  # the exercise kinds a CSV can carry
ROLE_COLUMNS = {"role_slug": "slug", "role_title": "title", "role_summary": "summary"}
SET_COLUMNS = {"set_slug": "slug", "set_title": "title", "set_description": "description"}
# Spreadsheets treat a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Apostrophes, then a formula character: the first apostrophe is an escape, added by dump_csv().
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


class _RowMap:
    """Where each item of the bank built from CSV came from, to name rows in validation errors."""

    def __init__(self) -> None:
        self.role_row = 2
        self.set_rows: list[int] = []  # first row of each set
        self.question_rows: list[list[int]] = []  # row of each question, per set


def _some(names: list[str], shown: int = 20) -> str:
    """Names for a message: the first `shown` (each cut to 40 characters), then how many more."""
    text = ", ".join(name[:40] for name in names[:shown])
    return text + (f" and {len(names) - shown:,} more" if len(names) > shown else "")


def _cell_error(row: int, column: str, cell: str) -> str | None:
    """The problem with a cell a spreadsheet would run as a formula, if it is one."""
    if column == "difficulty" or not cell.startswith(FORMULA_PREFIXES):
        return None
    lead = {"\t": "tab", "\r": "carriage return"}.get(cell[0], f"'{cell[0]}'")
    return (
        f"row {row}, column {column}: looks like a spreadsheet formula; remove the leading {lead} "
        f"(or start the cell with an apostrophe to keep it)"
    )


def _unescape(cell: str) -> str:
    """Drop the apostrophe that protects text starting with a formula character."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def split_key_points(cell: str) -> list[str]:
    """Key points from one cell: one per line, or separated by ' | ' on a single line."""
    parts = cell.splitlines() if "\n" in cell or "\r" in cell else cell.split(" | ")
    return [p.strip() for p in parts if p.strip()]


def _records(text: str, name: str) -> list[tuple[int, list[str]]]:
    """The CSV's records with their row numbers (the header is row 1)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    row = 0
    try:
        for row, record in enumerate(reader, start=1):  # noqa: B007 (row is read after a csv.Error)
            records.append((row, record))
    except csv.Error as exc:
        raise BankError([f"{name}: row {row + 1}: CSV syntax error: {exc}"]) from None
    if not records:
        raise BankError([f"{name}: the file is empty"])
    return records


def _check_header(header: list[str]) -> None:
    """Every column once, no other columns (one pass over the header, however wide)."""
    errors = []
    unknown = [h for h in header if h not in CSV_COLUMNS and h not in OPTIONAL_COLUMNS]
    if unknown:
        errors.append(
            f"row 1: unknown columns: {_some(unknown)} (expected: {', '.join(CSV_COLUMNS)}; "
            f"optional: {', '.join(OPTIONAL_COLUMNS)})"
        )
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        errors.append(f"row 1: missing columns: {', '.join(missing)}")
    repeated = sorted(h for h, n in Counter(header).items() if n > 1)
    if repeated:
        errors.append(f"row 1: columns appear more than once: {_some(repeated)}")
    if errors:
        raise BankError(errors)


def _cells(records: list[tuple[int, list[str]]], header: list[str], name: str, errors: list[str]):
    """Each question row as {column: text} with its row number; cell problems go to `errors`."""
    body = [(n, r) for n, r in records[1:] if any(cell.strip() for cell in r)]  # skip blank lines
    if not body:
        raise BankError([f"{name}: no question rows after the header"])
    if len(body) > MAX_QUESTIONS:
        raise BankError([f"{name}: {len(body):,} question rows; a file may hold at most {MAX_QUESTIONS:,}"])
    rows: list[tuple[int, dict[str, str]]] = []
    for n, record in body:
        if len(record) != len(header):
            cells_word = "cell" if len(record) == 1 else "cells"
            errors.append(f"row {n}: {len(record)} {cells_word}, but the header has {len(header)} columns")
            continue
        cells = dict(zip(header, record, strict=True))
        errors.extend(filter(None, (_cell_error(n, column, cells[column]) for column in header)))
        kind = cells.get("kind", "").strip()
        if kind and kind not in CSV_KINDS and kind in KINDS:
            errors.append(
                f"row {n}, column kind: a CSV cannot carry {kind} questions (only "
                f"{' and '.join(CSV_KINDS)}); import them from a YAML or JSON file"
            )
        rows.append((n, {c: _unescape(v) for c, v in cells.items()}))
    if not rows:
        raise BankError(errors)
    return rows


def _question(cells: dict[str, str]) -> dict:
    """One row's question, as validate() takes it (the optional columns only when filled in)."""
    difficulty: Any = cells["difficulty"].strip()
    extra = {c: cells[c] for c in OPTIONAL_COLUMNS if cells.get(c, "").strip()}
    extra.update({c: extra[c].strip() for c in ("id", "kind", "language") if c in extra})
    return {
        **extra,
        "key": cells["key"].strip(),
        "prompt": cells["prompt"],
        "answer": cells["answer"],
        "key_points": split_key_points(cells["key_points"]),
        "category": cells["category"],
        "difficulty": int(difficulty) if difficulty.isdigit() else (difficulty or None),
        "tags": [t.strip() for t in cells["tags"].split(",") if t.strip()],
    }


def read_csv(text: str, name: str) -> tuple[dict, _RowMap]:
    """Rows to the dict validate() takes; BankError naming row and column for CSV-level problems."""
    records = _records(text, name)
    header = [h.strip() for h in records[0][1]]
    _check_header(header)
    errors: list[str] = []
    rows = _cells(records, header, name, errors)
    # Keep collecting: disagreeing role and set columns are reported with the cell problems above.
    rowmap = _RowMap()
    first_row, first = rows[0]
    rowmap.role_row = first_row
    role = {field: first[column].strip() for column, field in ROLE_COLUMNS.items()}
    sets: dict[str, dict] = {}
    set_first: dict[str, tuple[int, dict[str, str]]] = {}
    for n, cells in rows:
        for column in ROLE_COLUMNS:
            if cells[column].strip() != first[column].strip():
                errors.append(
                    f"row {n}, column {column}: differs from row {first_row}; a file holds one role, "
                    "so the role columns must be the same on every row"
                )
        set_slug = cells["set_slug"].strip()
        if set_slug not in sets:
            set_first[set_slug] = (n, cells)
            sets[set_slug] = {**{f: cells[c].strip() for c, f in SET_COLUMNS.items()}, "questions": []}
            rowmap.set_rows.append(n)
            rowmap.question_rows.append([])
        else:
            set_row, set_cells = set_first[set_slug]
            for column in ("set_title", "set_description"):
                if cells[column].strip() != set_cells[column].strip():
                    errors.append(
                        f"row {n}, column {column}: differs from row {set_row}, the first row of set "
                        f"{set_slug!r}; the set columns must be the same on every row of a set"
                    )
        sets[set_slug]["questions"].append(_question(cells))
        rowmap.question_rows[list(sets).index(set_slug)].append(n)
    if errors:
        raise BankError(errors)
    return {"role": role, "sets": list(sets.values())}, rowmap


_QUESTION_PATH = re.compile(r"sets\[(\d+)\]\.questions\[(\d+)\]")
_SET_PATH = re.compile(r"^sets\[(\d+)\]\.(\w+)")
_ITEM = re.compile(r"^(\w+)\[(\d+)\]$")


def csv_error(error: str, rows: _RowMap) -> str:
    """Rewrite a validate() error (`sets[0].questions[3].answer: required`) as `row 5, column answer`."""
    path, _, message = error.partition(": ")

    def question_row(match: re.Match) -> str:
        return f"row {rows.question_rows[int(match[1])][int(match[2])]}"

    message = _QUESTION_PATH.sub(question_row, message)  # "duplicate of sets[0].questions[1]"
    match = _QUESTION_PATH.match(path)
    if match:
        row, field = question_row(match), path[match.end() + 1 :]
        item = _ITEM.match(field)
        if item:  # key_points[2] → column key_points, item 3
            return f"{row}, column {item[1]} (item {int(item[2]) + 1}): {message}"
        return f"{row}, column {field}: {message}"
    match = _SET_PATH.match(path)
    if match:
        field = match[2]
        column = f"set_{field}" if f"set_{field}" in CSV_COLUMNS else field
        message = re.sub(r"sets\[(\d+)\]", lambda m: f"the set on row {rows.set_rows[int(m[1])]}", message)
        return f"row {rows.set_rows[int(match[1])]}, column {column}: {message}"
    if path.startswith("role."):
        return f"row {rows.role_row}, column role_{path.removeprefix('role.')}: {message}"
    return error


# -- writing ---------------------------------------------------------------------------------------


def _csv_cell(value: str) -> str:
    """Text a spreadsheet will not run: a leading apostrophe (removed again on import) if needed."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) or _ESCAPED.match(value) else value


def left_out(bank: dict) -> list[str]:
    """Keys of the questions a CSV export leaves out: kinds a CSV cannot carry (bank file format)."""
    return [
        q["key"] for s in bank["sets"] for q in s["questions"] if q.get("kind", "recall") not in CSV_KINDS
    ]


def _carried(qset: dict) -> list[dict]:
    return [q for q in qset["questions"] if q.get("kind", "recall") in CSV_KINDS]


def dump_csv(bank: dict, progress: Callable[[int], object] | None = None) -> str:
    """One row per question a CSV can carry, with a byte-order mark so spreadsheets open it as UTF-8."""
    problems = []
    for qset in bank["sets"]:
        for q in _carried(qset):
            where = f"{qset['slug']}/{q['key']}"
            if any("," in t for t in q["tags"]):
                problems.append(f"{where}: a tag contains a comma")
            if any(isinstance(p, dict) for p in q["key_points"]):
                problems.append(f"{where}: key points carry detector terms")
            elif any("\n" in p or "\r" in p for p in q["key_points"]):
                problems.append(f"{where}: a key point contains a line break")
    if problems:
        raise BankError([f"{p}, which CSV cannot hold; export YAML or JSON instead" for p in problems])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = CSV_COLUMNS + OPTIONAL_COLUMNS
    writer.writerow(columns)
    role = bank["role"]
    for qset in bank["sets"]:
        for q in _carried(qset):
            text = {
                "role_slug": role["slug"],
                "role_title": role["title"],
                "role_summary": role["summary"],
                "set_slug": qset["slug"],
                "set_title": qset["title"],
                "set_description": qset["description"],
                "key": q["key"],
                "prompt": q["prompt"],
                "answer": q["answer"],
                "key_points": "\n".join(q["key_points"]),
                "category": q["category"],
                "tags": ", ".join(q["tags"]),
                "id": q.get("id") or "",
                "kind": q.get("kind", "recall"),
                "language": q.get("language") or "",
                "code": q.get("code") or "",
            }
            writer.writerow(q["difficulty"] if c == "difficulty" else _csv_cell(text[c]) for c in columns)
            if progress is not None:
                progress(1)
    return "\ufeff" + buffer.getvalue()
