"""Command-line tasks: seed the bundled banks, create an admin."""

from __future__ import annotations

import sys

import click
from flask import Blueprint, current_app

from .auth.services import hash_password, normalise_email, password_problem
from .banks import BankError
from .banks import seed as seed_banks
from .extensions import db
from .models import User

bp = Blueprint("cli", __name__, cli_group=None)


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


@bp.cli.command("create-admin")
@click.argument("email")
@click.option("--name", default=None, help="Display name for a new account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(email: str, name: str | None, password_stdin: bool) -> None:
    """Make EMAIL an admin, creating the account if needed (password from a prompt or stdin)."""
    email = normalise_email(email)
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is not None:
        user.is_admin = True
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
    user = User(
        email=email,
        display_name=name or email.split("@")[0][:80],
        password_hash=hash_password(password, current_app.config["PASSWORD_HASH_METHOD"]),
        is_admin=True,
    )
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created admin {email}.")
