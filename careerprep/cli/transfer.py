"""Command-line twins of the admin import and export: import-questions and export-questions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import false

from ..banks import BankError, anki, anki_text, apply_banks, formats
from ..banks.diff import diff_bank
from ..extensions import db
from ..models import Question, QuestionSet, Role, User
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


FORMATS = ("yaml", "json", "csv", "apkg", "anki-tsv")
EXTENSIONS = {"yaml": "yaml", "json": "json", "csv": "csv", "apkg": "apkg", "anki-tsv": "tsv"}


def _role(slug: str) -> Role:
    """A role by slug, or a clear error."""
    role = db.session.scalar(db.select(Role).filter_by(slug=slug))
    if role is None:
        raise click.ClickException(f"no role {slug!r}")
    return role


def _export_role(
    role: Role,
    fmt: str,
    advance: Callable[[int], object],
    qset: QuestionSet | None = None,
    user: User | None = None,
) -> bytes | None:
    """One role (or one of its sets) in a format; None when an Anki format has nothing published."""
    if fmt == "apkg":
        return anki.set_deck(qset, advance) if qset else anki.role_deck(role, advance, user)
    if fmt == "anki-tsv":
        text = anki_text.role_tsv(role, qset.id if qset else None, advance)
        return None if text is None else text.encode("utf-8")
    bank = formats.set_bank(qset) if qset else formats.role_bank(role)
    try:
        return formats.dump(bank, fmt, advance).encode("utf-8")
    except BankError as exc:
        _fail(exc.errors, f"{role.slug}{'/' + qset.slug if qset else ''}")


def _live_count(*conditions) -> int:
    """Live questions of live sets matching the conditions (for the progress bar and the summary)."""
    return db.session.scalar(
        db.select(db.func.count(Question.id))
        .join(QuestionSet, QuestionSet.id == Question.set_id)
        .join(Role, Role.id == QuestionSet.role_id)
        .where(Question.archived == false(), QuestionSet.archived == false(), *conditions)
    )


@bp.cli.command("export-questions")
@click.argument("set_slug", required=False)
@click.option("--role", "role_slug", help="Export this whole role (every set) instead of one set.")
@click.option("--all", "everything", is_flag=True, help="Export the whole catalogue, every live role.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="yaml",
    show_default=True,
    help="Bank format (imports back), an Anki deck, or Anki-ready text (anki-tsv) for Anki's text importer.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(writable=True, path_type=Path),
    help="Write to PATH instead of standard output (required for apkg; a folder for --all in bank formats).",
)
@click.option("--with-progress", "email", help="apkg: carry this account's card states and review log.")
def export_questions(
    set_slug: str | None,
    role_slug: str | None,
    everything: bool,
    fmt: str,
    output: Path | None,
    email: str | None,
) -> None:
    """Export the set SET_SLUG (or ROLE/SET), a whole role (--role) or the catalogue (--all)."""
    if sum((bool(set_slug), bool(role_slug), everything)) != 1:
        raise click.UsageError("give one of SET_SLUG, --role ROLE or --all")
    if fmt == "apkg" and output is None:
        raise click.UsageError("--output PATH is required for --format apkg (a binary file)")
    if everything and output is None:
        raise click.UsageError("--output is required for --all (a file for apkg, else a folder)")
    if email and fmt != "apkg":
        raise click.UsageError("--with-progress goes with --format apkg")
    user = None
    if email:
        user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no account {email}")
    if everything:
        _export_catalogue(fmt, output, user)
        return
    qset = find_set(set_slug) if set_slug else None
    role = qset.role if qset else _role(role_slug)
    total = _live_count(QuestionSet.id == qset.id) if qset else _live_count(Role.id == role.id)
    with progress(total or 0, "Exporting") as advance:
        data = _export_role(role, fmt, advance, qset, user)
    db.session.rollback()
    if data is None:
        raise click.ClickException(f"{set_slug or role_slug}: no published questions to put in a deck")
    if output is None:
        click.echo(data, nl=False)  # bytes go to stdout unchanged (a CSV keeps its BOM)
        return
    output.write_bytes(data)
    what = f"{role.slug}/{qset.slug}" if qset else role.slug
    click.echo(f"Wrote {total} questions of {what} to {output}.", err=True)


def _export_catalogue(fmt: str, output: Path, user: User | None) -> None:
    """Every live role: one .apkg holding them all, or one file per role in the folder `output`."""
    total = _live_count(Role.archived == false())
    with progress(total or 0, "Exporting") as advance:
        if fmt == "apkg":
            data = anki.catalogue_deck(advance, user)
            db.session.rollback()
            if data is None:
                raise click.ClickException("no published questions to put in a deck")
            output.write_bytes(data)
            click.echo(f"Wrote the catalogue ({total} questions) to {output}.", err=True)
            return
        output.mkdir(parents=True, exist_ok=True)
        roles = list(db.session.scalars(db.select(Role).where(Role.archived == false()).order_by(Role.slug)))
        written = []
        for role in roles:
            data = _export_role(role, fmt, advance)
            if data is not None:
                path = output / f"{role.slug}.{EXTENSIONS[fmt]}"
                path.write_bytes(data)
                written.append(path.name)
    db.session.rollback()
    click.echo(f"Wrote {len(written)} roles ({total} questions) to {output}: {', '.join(written)}.", err=True)
