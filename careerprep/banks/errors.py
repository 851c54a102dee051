"""The error every bank step raises: a list of problems, each naming its item and field."""

from __future__ import annotations


class BankError(Exception):
    """A bank file that is not valid; `errors` lists every problem by item and field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors
