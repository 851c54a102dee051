"""CLI: create-admin (prompt or stdin, never an argument) and seed."""

from __future__ import annotations

from careerprep.extensions import db
from careerprep.models import User
from tests.conftest import make_user


def test_create_admin_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.com", "--password-stdin"], input="a strong password\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert user.is_admin and user.email == "boss@example.com"
        assert user.password_hash.startswith("scrypt:")


def test_create_admin_prompts_for_the_password(app, runner):
    result = runner.invoke(
        args=["create-admin", "boss@example.com"], input="a strong password\na strong password\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(db.select(User.is_admin))


def test_create_admin_promotes_an_existing_user(app, runner):
    user = make_user(app)
    result = runner.invoke(args=["create-admin", user.email])
    assert result.exit_code == 0
    assert "is now an admin" in result.output
    with app.app_context():
        assert db.session.get(User, user.id).is_admin


def test_create_admin_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-admin", "boss@example.com", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_create_admin_has_no_password_argument(runner):
    result = runner.invoke(args=["create-admin", "--help"])
    assert "--password-stdin" in result.output
    assert "--password " not in result.output


def test_no_default_admin_exists(app, runner):
    runner.invoke(args=["seed"])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0
