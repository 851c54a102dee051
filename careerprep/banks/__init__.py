"""Question banks: the format's rules, parsing, validation, the comparison with the database, the one
import path (one transaction), file formats and Anki decks.

rules (the limits) · parse (text to data, depth bounded) · validate (data to a clean bank) · formats
(YAML, JSON and CSV in and out) · diff (what an import would change) · importing (apply_banks, seed)
· anki (decks).
"""

from __future__ import annotations


class BankError(Exception):
    """A bank file that is not valid; `errors` lists every problem by item and field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


from .importing import BANK_DIR, ImportSummary, apply_banks, bundled_files, import_bank, seed  # noqa: E402
from .parse import parse  # noqa: E402
from .validate import load_file, validate  # noqa: E402

__all__ = [
    "BANK_DIR",
    "BankError",
    "ImportSummary",
    "apply_banks",
    "bundled_files",
    "import_bank",
    "load_file",
    "parse",
    "seed",
    "validate",
]
