"""Command-line tasks: seed the bundled banks, verify the review log, back up, create an admin."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click
from flask import current_app

from ..account import restore
from ..auth.services import hash_password, normalise_email, password_problem
from ..banks import BankError
from ..banks import seed as seed_banks
from ..extensions import db
from ..models import User, write_transaction
from ..personal.fits import run_due_fits
from ..reviews import verify
from .blueprint import bp


@bp.cli.command("seed")
def seed() -> None:
    """Load the bundled question banks (idempotent: a second run changes nothing)."""
    try:
        summary = seed_banks()
    except BankError as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problems; nothing was written") from None
    click.echo(f"Seeded question banks: {summary}.")


@bp.cli.command("verify-reviews")
@click.option("--rebuild", is_flag=True, help="Rewrite drifted card states from the review log.")
def verify_reviews(rebuild: bool) -> None:
    """Check every card's state equals a replay of its reviews through FSRS."""
    checked, drifts = verify(rebuild=rebuild)
    for drift in drifts[:50]:
        detail = ", ".join(f"{k}: stored {a!r}, log says {b!r}" for k, (a, b) in drift.fields.items())
        click.echo(f"drift: user {drift.user_id} question {drift.question_id}: {detail}")
    if len(drifts) > 50:
        click.echo(f"… and {len(drifts) - 50} more")
    if drifts and rebuild:
        click.echo(f"Checked {checked} cards: rebuilt {len(drifts)} from the review log.")
    elif drifts:
        click.echo(
            f"Checked {checked} cards: {len(drifts)} differ from their review log "
            "(run with --rebuild to repair)."
        )
        raise SystemExit(1)
    else:
        click.echo(f"Checked {checked} cards: all match their review log.")


@bp.cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup(path: str) -> None:
    """Write a consistent online copy of the SQLite database to PATH (PostgreSQL: use pg_dump)."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException(
            "backup copies SQLite databases; for PostgreSQL run: "
            'pg_dump --format=custom --file=careerprep.dump "$DATABASE_URL" '
            "(with the URL in libpq form, without '+psycopg')"
        )
    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists; choose a new file name")
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            # The backup API copies page by page and restarts if a writer changes the source,
            # so the copy is a consistent snapshot even while the app keeps serving.
            raw.driver_connection.backup(dest)
        finally:
            dest.close()
    finally:
        raw.close()
    click.echo(f"Backed up the database to {target} ({target.stat().st_size:,} bytes).")


@bp.cli.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name for a new account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(email: str, name: str | None, password_stdin: bool) -> None:
    """Make EMAIL an admin, creating the account if needed (password from a prompt or stdin)."""
    email = normalise_email(email)
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    exists = db.session.scalar(db.select(User.id).filter_by(email=email)) is not None
    db.session.rollback()  # end the read before waiting at a prompt: it must hold no lock
    if exists:
        with write_transaction():
            db.session.scalar(db.select(User).filter_by(email=email)).is_admin = True
            db.session.commit()
        click.echo(f"{email} is now an admin.")
        return
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    with write_transaction():
        db.session.add(
            User(
                email=email,
                display_name=name or email.split("@")[0][:80],
                password_hash=hash_password(password, current_app.config["PASSWORD_HASH_METHOD"]),
                is_admin=True,
            )
        )
        db.session.commit()
    click.echo(f"Created admin {email}.")


@bp.cli.command("fit-schedulers")
def fit_schedulers() -> None:
    """Fit the scheduler of every user and role whose review log grew enough since its last fit."""
    report = run_due_fits()
    for line in report:
        click.echo(line)
    click.echo(f"Fitted {len(report)} scheduler{'s' if len(report) != 1 else ''}.")


@bp.cli.command("import-user-data")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--email", required=True, help="The account (on this server) that receives the data.")
def import_user_data(file: Path, email: str) -> None:
    """Import an account export (JSON) into the account EMAIL: all of it, or nothing."""
    user = db.session.scalar(db.select(User).filter_by(email=normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no account {email}; create it first")
    if file.stat().st_size > restore.MAX_BYTES:
        raise click.ClickException(f"{file.name}: larger than {restore.MAX_BYTES:,} bytes")
    try:
        plan = restore.check_document(restore.read_document(file.read_bytes()))
        db.session.rollback()  # the checks only read: end that before the write transaction
        summary = restore.restore(user, plan)
    except restore.RestoreError as exc:
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        raise click.ClickException(
            f"{len(exc.errors)} problems in {file.name}; nothing was written"
        ) from None
    click.echo(f"Imported {file.name} into {user.email}: {summary}.")
