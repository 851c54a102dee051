"""Command-line twins of the admin import and export: import-questions and export-questions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import false

from ..banks import BankError, anki, apply_banks, formats
from ..banks.diff import diff_bank
from ..extensions import db
from ..models import Question, QuestionSet, Role
from .blueprint import bp

PROGRESS_FROM = 200  # questions; smaller files finish before a bar would be seen


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], object]]:
    """A progress bar on stderr (stdout stays clean for exports) when there are many questions."""
    if total <= PROGRESS_FROM:
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def _fail(errors: list[str], what: str) -> NoReturn:
    """Print every error to stderr and exit non-zero."""
    for error in errors:
        click.echo(f"error: {error}", err=True)
    problems = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
    raise click.ClickException(f"{problems} in {what}; nothing was written")


@bp.cli.command("import-questions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
def import_questions(file: Path, dry_run: bool) -> None:
    """Import a bank FILE (YAML, JSON or CSV): list the changes, then apply them in one transaction."""
    if file.stat().st_size > formats.MAX_BYTES:
        _fail([f"{file.name}: {file.stat().st_size:,} bytes; a file may be at most 1 MiB"], file.name)
    try:
        bank = formats.load(file.read_bytes(), file.name)
    except BankError as exc:
        _fail(exc.errors, file.name)
    if dry_run:
        changes = diff_bank(bank)
        db.session.rollback()
        for line in changes.lines():
            click.echo(line)
        click.echo("Dry run: nothing was written.")
        return
    with progress(formats.question_count(bank), "Importing") as advance:
        try:
            (applied,) = apply_banks([(bank, file.name)], progress=advance)
        except BankError as exc:
            _fail(exc.errors, file.name)
    for line in applied.changes.lines():
        click.echo(line)
    if applied.changes.has_changes:
        click.echo(f"Imported {file.name}: {applied.summary}.")
    else:
        click.echo("Nothing to import.")


def find_set(spec: str) -> QuestionSet:
    """A set by SLUG or ROLE/SLUG; a clear error when it is missing or in more than one role."""
    role_slug, _, set_slug = spec.rpartition("/")
    stmt = db.select(QuestionSet).join(Role).where(QuestionSet.slug == set_slug).order_by(Role.slug)
    if role_slug:
        stmt = stmt.where(Role.slug == role_slug)
    matches = db.session.scalars(stmt).all()
    if not matches:
        raise click.ClickException(f"no question set {spec!r}")
    if len(matches) > 1:
        names = ", ".join(f"{m.role.slug}/{m.slug}" for m in matches)
        raise click.ClickException(f"set slug {set_slug!r} is in several roles ({names}); pass ROLE/SET")
    return matches[0]


@bp.cli.command("export-questions")
@click.argument("set_slug")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json", "csv", "apkg"]),
    default="yaml",
    show_default=True,
    help="Bank format (imports back to the same set) or an Anki deck.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to PATH instead of standard output (required for apkg).",
)
def export_questions(set_slug: str, fmt: str, output: Path | None) -> None:
    """Export the set SET_SLUG (or ROLE/SET when the slug is in several roles)."""
    if fmt == "apkg" and output is None:
        raise click.UsageError("--output PATH is required for --format apkg (a binary file)")
    qset = find_set(set_slug)
    total = db.session.scalar(
        db.select(db.func.count(Question.id)).where(Question.set_id == qset.id, Question.archived == false())
    )
    with progress(total or 0, "Exporting") as advance:
        if fmt == "apkg":
            data = anki.set_deck(qset, advance)
            if data is None:
                raise click.ClickException(f"{set_slug}: no published questions to put in a deck")
        else:
            try:
                data = formats.dump(formats.set_bank(qset), fmt, advance).encode("utf-8")
            except BankError as exc:
                _fail(exc.errors, set_slug)
    db.session.rollback()
    if output is None:
        click.echo(data, nl=False)  # bytes go to stdout unchanged (a CSV keeps its BOM)
        return
    output.write_bytes(data)
    click.echo(f"Wrote {total} questions of {qset.role.slug}/{qset.slug} to {output}.", err=True)
