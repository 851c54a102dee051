"""Bank format, validation, idempotent seeding and safe Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from careerprep.banks import BANK_DIR, BankError, bundled_files, import_bank, load_file, parse, seed, validate
from careerprep.banks.diff import diff_bank
from careerprep.extensions import db
from careerprep.models import CardState, Question, QuestionSet, Role
from careerprep.templating import render_markdown
from tests.conftest import bank_dict, card_state, load_bank, make_user


def row_counts():
    return tuple(db.session.scalar(db.select(db.func.count(m.id))) for m in (Role, QuestionSet, Question))


def test_bundled_banks_validate():
    files = bundled_files()
    assert files, "no bundled banks"
    for path in files:
        load_file(path)


def test_software_systems_engineer_bank_is_deep_enough(app):
    with app.app_context():
        seed()
        role = db.session.scalar(db.select(Role).filter_by(slug="software-systems-engineer"))
        assert role is not None
        questions = db.session.scalars(
            db.select(Question).join(QuestionSet).where(QuestionSet.role_id == role.id)
        ).all()
    assert len(questions) >= 40
    categories = {q.category for q in questions}
    assert len(categories) >= 8
    for q in questions:
        assert 3 <= len(q.key_points) <= 6


def test_seed_twice_gives_the_same_rows(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "questions added" in result.output
    with app.app_context():
        first = row_counts()
        first_ids = db.session.scalars(db.select(Question.id).order_by(Question.id)).all()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0
    assert "0 questions added, 0 updated" in result.output
    with app.app_context():
        assert row_counts() == first
        assert db.session.scalars(db.select(Question.id).order_by(Question.id)).all() == first_ids


def test_edited_bank_updates_by_key_and_keeps_progress(app, tmp_path: Path):
    bank = bank_dict(n_questions=3)
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(bank))
    user = make_user(app)
    with app.app_context():
        seed(tmp_path)
        question = db.session.scalar(db.select(Question).filter_by(key="q-1"))
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        db.session.add(
            card_state(
                user.id,
                question.id,
                stability=4.0,
                due=now,
                last_review=now,
                reps=3,
                lapses=1,
                introduced_at=now,
            )
        )
        db.session.commit()
        original_id = question.id
    bank["sets"][0]["questions"][1]["prompt"] = "A reworded question?"
    bank["sets"][0]["questions"].append(
        {**bank["sets"][0]["questions"][0], "key": "q-new", "prompt": "Brand new?"}
    )
    path.write_text(yaml.safe_dump(bank))
    with app.app_context():
        summary = seed(tmp_path)
        assert (summary.created, summary.updated) == (1, 1)
        question = db.session.scalar(db.select(Question).filter_by(key="q-1"))
        assert question.id == original_id
        assert question.prompt == "A reworded question?"
        state = db.session.scalar(db.select(CardState))
        assert (state.question_id, state.reps, state.lapses) == (original_id, 3, 1)


def test_invalid_bank_file_makes_seed_write_nothing(app, runner, tmp_path: Path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(bank_dict(role_slug="good-role")))
    broken = bank_dict(role_slug="bad-role")
    del broken["sets"][0]["questions"][3]["answer"]
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(broken))
    with app.app_context():
        with pytest.raises(BankError) as info:
            seed(tmp_path)
        assert info.value.errors == ["b.yaml: sets[0].questions[3].answer: required"]
        assert row_counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda b: b.pop("role"), "role: required"),
        (lambda b: b["role"].update(slug="Not A Slug"), "role.slug: use lowercase letters"),
        (lambda b: b.update(sets=[]), "sets: required"),
        (
            lambda b: b["sets"][0]["questions"][1].update(key="q-0"),
            "sets[0].questions[1].key: duplicate of sets[0].questions[0]",
        ),
        (
            lambda b: b["sets"][0]["questions"][0].update(tags="oops"),
            "sets[0].questions[0].tags: must be a list",
        ),
        (
            lambda b: b["sets"][0]["questions"][0].update(difficulty=True),
            "sets[0].questions[0].difficulty: must be 1, 2 or 3",
        ),
        (
            lambda b: b["sets"][0]["questions"][0].update(prompt=["a"]),
            "sets[0].questions[0].prompt: must be text",
        ),
        (
            lambda b: b["sets"][0]["questions"][0].update(key_points=["a"] * 7),
            "sets[0].questions[0].key_points: needs 3 to 6 items, got 7",
        ),
        (lambda b: b["sets"][0].update(published="yes please"), "sets[0].published: must be true or false"),
        # Anki names a set's deck by its title: `::` would nest it, one title twice would merge two sets.
        (lambda b: b["sets"][0].update(title="Basics::Advanced"), "sets[0].title: must not contain '::'"),
        (
            lambda b: b["sets"].append({**b["sets"][0], "slug": "other", "title": "set BASICS"}),
            "sets[1].title: duplicate of sets[0]",
        ),
        (lambda b: b["sets"][0]["questions"][0].update(id="no spaces!"), "sets[0].questions[0].id: use 8"),
        # A relative image names a file nobody has: missing media in Anki, a broken image here.
        (
            lambda b: b["sets"][0]["questions"][0].update(answer="See ![diagram](img/d.png)."),
            "sets[0].questions[0].answer: image 'img/d.png' is not an http(s) address",
        ),
        (
            lambda b: [q.update(id="same-id-123") for q in b["sets"][0]["questions"][:2]],
            "sets[0].questions[1].id: duplicate of sets[0].questions[0]",
        ),
    ],
)
def test_validation_names_item_and_field(mutate, error):
    bank = bank_dict()
    mutate(bank)
    with pytest.raises(BankError) as info:
        validate(bank)
    assert any(e.startswith(error) for e in info.value.errors), info.value.errors


def test_parse_refuses_python_tags_and_duplicate_keys():
    with pytest.raises(BankError):
        parse("!!python/object/apply:os.system ['true']")
    with pytest.raises(BankError, match="duplicate key 'a'"):
        parse("a: 1\na: 2\n")


def test_script_in_markdown_comes_out_inert(app, logged_in):
    bank = bank_dict(n_questions=1)
    question = bank["sets"][0]["questions"][0]
    question["prompt"] = (
        "What does <script>alert('x')</script> do? [link](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    question["answer"] = "<script>document.cookie</script>\n\n```html\n<script>ok</script>\n```"
    load_bank(app, bank)
    html = logged_in.get("/roles/test-role/drill").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert 'href="javascript:' not in html
    assert "<img src=x onerror" not in html
    assert "onerror=" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")


def test_render_markdown_drops_relative_images_and_keeps_hosted_ones():
    html = str(render_markdown("![a](pic.png) ![b](https://example.org/b.png)"))
    assert '<img alt="a">' in html and 'src="https://example.org/b.png"' in html


def test_render_markdown_keeps_code_and_lists():
    html = str(render_markdown("Use `fork()`:\n\n- one\n- two\n\n```c\nint x = 1;\n```"))
    assert "<code>fork()</code>" in html
    assert "<li>one</li>" in html
    assert '<code class="language-c">int x = 1;' in html


def test_bank_dir_is_the_package_folder():
    assert BANK_DIR.name == "banks" and (BANK_DIR / "__init__.py").exists()


def test_a_question_keeps_its_permanent_id_through_a_new_key_and_a_new_set(app):
    """Identity: the bank's `id` matches the stored question, so a changed key or set updates it."""
    load_bank(app)
    user = make_user(app)
    with app.app_context():
        question = db.session.scalar(db.select(Question).filter_by(key="q-1"))
        uid, question_id, before = question.uid, question.id, question.updated_at
        untouched_at = db.session.scalar(db.select(Question.updated_at).filter_by(key="q-2"))
        db.session.add(card_state(user.id, question.id))
        db.session.commit()
    bank = bank_dict()
    bank["sets"].append({**bank["sets"][0], "slug": "moved", "title": "Moved", "questions": []})
    moving = bank["sets"][0]["questions"].pop(1)
    bank["sets"][1]["questions"] = [{**moving, "id": uid, "key": "renamed", "answer": "A new answer."}]
    with app.app_context():
        changes = diff_bank(validate(bank))  # the preview says what the import will do
        assert [
            (s.slug, [q.key for q in s.changed], [q.fields for q in s.changed]) for s in changes.sets
        ] == [
            ("basics", ["q-2", "q-3", "q-4"], [["order"]] * 3),
            ("moved", ["renamed"], [["key", "set", "answer", "order"]]),
        ]
        assert changes.count("new") == 0 and changes.count("missing") == 0
        summary = import_bank(validate(bank))
        db.session.commit()
        assert (summary.created, summary.updated) == (0, 1)
        question = db.session.get(Question, question_id)
        assert (question.uid, question.key, question.question_set.slug) == (uid, "renamed", "moved")
        assert question.answer == "A new answer." and question.updated_at > before
        assert db.session.scalar(db.select(CardState.question_id)) == question_id
        assert db.session.scalar(db.select(db.func.count(Question.id))) == 5
        # Unchanged questions keep their time, so Anki leaves their notes alone.
        untouched = db.session.scalar(db.select(Question).filter_by(key="q-2"))
        assert untouched.updated_at == untouched_at
        # A new question at the old place gets a new id: the old one stays with the moved question.
        bank["sets"][0]["questions"].append({**moving})
        import_bank(validate(bank))
        db.session.commit()
        fresh = db.session.scalar(db.select(Question).filter_by(key="q-1"))
        assert fresh.uid != uid and fresh.id != question_id
