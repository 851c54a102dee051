"""Admin users (search, admin and active flags, sign-outs) and the read-only audit log."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from careerprep import audit
from careerprep.extensions import db
from careerprep.models import AuditLog, Question, Review, User, UserSession
from tests.conftest import PASSWORD, count_queries, load_bank, make_user

HX = {"HX-Request": "true", "HX-Target": "user-results"}
NEW_URLS = [
    ("GET", "/admin/users"),
    ("POST", "/admin/users/1/admin"),
    ("POST", "/admin/users/1/active"),
    ("GET", "/admin/audit"),
]


@pytest.fixture
def admin_user(app):
    return make_user(app, is_admin=True, email="boss@example.com", display_name="The Boss")


@pytest.fixture
def admin(app, client, auth, admin_user):
    """A client signed in as `admin_user`."""
    assert auth.login(admin_user.email, PASSWORD).status_code == 303
    return client


def login(client, email: str, password: str = PASSWORD):
    return client.post("/auth/login", data={"email": email, "password": password})


def fresh(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def audit_rows(app, **filters) -> list[AuditLog]:
    with app.app_context():
        rows = db.session.scalars(db.select(AuditLog).filter_by(**filters).order_by(AuditLog.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def add_reviews(app, user_id: int, times: list[datetime]) -> None:
    """Review rows for `user_id` at the given times (on the first question, loaded if needed)."""
    with app.app_context():
        question_id = db.session.scalar(db.select(Question.id).limit(1))
    if question_id is None:
        load_bank(app, n_questions=1)
        with app.app_context():
            question_id = db.session.scalar(db.select(Question.id).limit(1))
    with app.app_context():
        for at in times:
            db.session.add(
                Review(
                    user_id=user_id,
                    question_id=question_id,
                    token=uuid.uuid4().hex,
                    rating=3,
                    reviewed_at=at,
                    state=2,
                    due=at + timedelta(days=3),
                    interval_seconds=3 * 86400,
                )
            )
        db.session.commit()


def review_count(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Review.id)).where(Review.user_id == user_id))


def open_sessions(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count(UserSession.id)).where(
                UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
            )
        )


def emails_on(html: str) -> list[str]:
    """The emails of the user rows on a users page or fragment, in order."""
    return re.findall(r'<tr id="user-\d+">\s*<td>([^<]+)</td>', html)


# -- access ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url"), NEW_URLS)
def test_new_urls_are_403_for_a_non_admin(app, logged_in, method, url):
    response = logged_in.open(url, method=method, data={"action": "promote"})
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), NEW_URLS)
def test_new_urls_send_anonymous_users_to_sign_in(app, client, method, url):
    response = client.open(url, method=method, data={"action": "promote"})
    assert response.status_code == 303
    assert "/auth/login" in response.headers["Location"]


def test_a_non_admin_cannot_promote_themselves(app, logged_in, user):
    assert logged_in.post(f"/admin/users/{user.id}/admin", data={"action": "promote"}).status_code == 403
    assert fresh(app, user.id).is_admin is False
    assert audit_rows(app) == []


# -- listing and search ------------------------------------------------------------------------------------


def test_users_page_lists_users_newest_first_with_review_counts(app, admin, admin_user):
    now = datetime.now(UTC)
    old = make_user(app, email="old@example.com", created_at=now - timedelta(days=30))
    new = make_user(app, email="new@example.com", display_name="Newcomer", created_at=now - timedelta(days=1))
    add_reviews(app, old.id, [now - timedelta(days=5), datetime(2025, 2, 3, 12, tzinfo=UTC)])
    response = admin.get("/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and 'id="user-search"' in html
    assert emails_on(html) == ["boss@example.com", "new@example.com", "old@example.com"]
    old_row = re.search(rf'<tr id="user-{old.id}">.*?</tr>', html, re.S).group(0)
    assert '<td class="num">2</td>' in old_row
    assert (now - timedelta(days=5)).strftime("%Y-%m-%d") in old_row
    new_row = re.search(rf'<tr id="user-{new.id}">.*?</tr>', html, re.S).group(0)
    assert "Newcomer" in new_row and '<td class="num">0</td>' in new_row and "never" in new_row
    assert "Make admin" in new_row and "Disable" in new_row
    own_row = re.search(rf'<tr id="user-{admin_user.id}">.*?</tr>', html, re.S).group(0)
    assert "This is you" in own_row and "Disable" not in own_row


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ALICE", ["alice@example.com"]),
        ("example.COM", ["bob@example.com", "alice@example.com", "boss@example.com"]),
        ("wonderland", ["alice@example.com"]),
        ("BUILDER", ["bob@example.com"]),
        ("nobody", []),
    ],
)
def test_search_matches_email_or_name_in_any_case(app, admin, q, expected):
    now = datetime.now(UTC)
    make_user(app, email="alice@example.com", display_name="Alice in Wonderland", created_at=now)
    make_user(
        app, email="bob@example.com", display_name="Bob the Builder", created_at=now + timedelta(seconds=1)
    )
    html = admin.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
    assert emails_on(html) == expected
    assert f'value="{q}"' in html


@pytest.mark.parametrize(
    ("q", "expected"),
    [("%", ["percent@example.com"]), ("_", ["under_score@example.com"]), ("\\", ["back@example.com"])],
)
def test_search_treats_wildcards_literally(app, admin, q, expected):
    make_user(app, email="percent@example.com", display_name="100% sure")
    make_user(app, email="under_score@example.com", display_name="Under")
    make_user(app, email="back@example.com", display_name="Back\\slash")
    make_user(app, email="plain@example.com", display_name="Plain")
    html = admin.get("/admin/users", query_string={"q": q}).get_data(as_text=True)
    assert emails_on(html) == expected


def test_filters_admins_only_and_disabled_only(app, admin):
    make_user(app, email="helper@example.com", is_admin=True)
    make_user(app, email="gone@example.com", is_active=False)
    make_user(app, email="gone-admin@example.com", is_active=False, is_admin=True)
    make_user(app, email="plain@example.com")
    admins = emails_on(admin.get("/admin/users?admins=1").get_data(as_text=True))
    assert sorted(admins) == ["boss@example.com", "gone-admin@example.com", "helper@example.com"]
    disabled = emails_on(admin.get("/admin/users?disabled=1").get_data(as_text=True))
    assert sorted(disabled) == ["gone-admin@example.com", "gone@example.com"]
    both = emails_on(admin.get("/admin/users?admins=1&disabled=1").get_data(as_text=True))
    assert both == ["gone-admin@example.com"]
    page = admin.get("/admin/users?disabled=1").get_data(as_text=True)
    assert re.search(r'name="disabled" value="1" checked', page)


def test_pagination_keeps_the_search_and_filters(app, admin):
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(30):
        make_user(app, email=f"match{i:02d}@example.com", created_at=start + timedelta(hours=i))
    make_user(app, email="other@example.com")
    first = admin.get("/admin/users?q=match").get_data(as_text=True)
    assert "30 users matching" in first
    assert emails_on(first)[0] == "match29@example.com"
    assert len(emails_on(first)) == 25
    assert "Page 1 of 2" in first
    assert 'href="/admin/users?page=2&amp;q=match"' in first
    second = admin.get("/admin/users?page=2&q=match").get_data(as_text=True)
    assert emails_on(second) == [f"match{i:02d}@example.com" for i in range(4, -1, -1)]
    assert 'href="/admin/users?page=1&amp;q=match"' in second
    filtered = admin.get("/admin/users?q=match&disabled=1").get_data(as_text=True)
    assert "0 users matching" in filtered and "No users match." in filtered
    # A page past the end (or nonsense) shows an empty page, not an error.
    assert admin.get("/admin/users?page=9&q=match").status_code == 200
    assert admin.get("/admin/users?page=abc").status_code == 200


def test_htmx_search_gets_the_results_fragment_and_direct_loads_the_page(app, admin):
    make_user(app, email="alice@example.com")
    fragment = admin.get("/admin/users?q=alice", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="user-results">')
    assert "<html" not in html and 'id="user-search"' not in html
    assert emails_on(html) == ["alice@example.com"]
    assert "HX-Request" in fragment.headers["Vary"]
    page = admin.get("/admin/users?q=alice")
    assert "<html" in page.get_data(as_text=True)
    assert 'id="user-results"' in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    # htmx restoring a pushed URL from history swaps the whole body: it needs the whole page.
    restore = admin.get("/admin/users?q=alice", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_search_box_is_wired_for_htmx_and_works_without_it(app, admin):
    html = admin.get("/admin/users").get_data(as_text=True)
    form = re.search(r'<form id="user-search".*?</form>', html, re.S).group(0)
    assert 'method="get" action="/admin/users"' in form
    box = re.search(r'<input id="user-q".*?>', form, re.S).group(0)
    assert 'hx-trigger="input changed delay:300ms, search"' in box
    assert 'hx-target="#user-results"' in box and 'hx-push-url="true"' in box
    assert 'hx-get="/admin/users"' in box


def test_users_page_query_count_does_not_grow_with_users(app, admin):
    def queries(n: int) -> int:
        for _ in range(n):
            user = make_user(app)
            add_reviews(app, user.id, [datetime.now(UTC)])
        admin.get("/admin/users")  # warm up
        with count_queries(app) as statements:
            assert admin.get("/admin/users").status_code == 200
        return len(statements)

    few = queries(5)
    many = queries(55)  # 61 users in all: a full first page of 25
    assert few == many
    assert few <= 5


# -- admin flag --------------------------------------------------------------------------------------------


def test_promote_then_demote_changes_only_the_flag_and_is_audited(app, admin, admin_user):
    target = make_user(app, email="pat@example.com")
    other = make_user(app, email="other@example.com")
    add_reviews(app, target.id, [datetime.now(UTC)])
    other_client = app.test_client()
    assert login(other_client, other.email).status_code == 303
    target_client = app.test_client()
    assert login(target_client, target.email).status_code == 303
    before = fresh(app, target.id)

    response = admin.post(f"/admin/users/{target.id}/admin?q=pat&page=1", data={"action": "promote"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users?q=pat&page=1"
    assert "pat@example.com is now an admin." in admin.get(response.headers["Location"]).get_data(
        as_text=True
    )
    after = fresh(app, target.id)
    assert after.is_admin is True
    assert (after.password_hash, after.is_active, after.email) == (
        before.password_hash,
        before.is_active,
        before.email,
    )
    assert review_count(app, target.id) == 1
    assert open_sessions(app, target.id) == 1 and open_sessions(app, other.id) == 1
    assert target_client.get("/admin/users").status_code == 200  # same sign-in, now an admin

    response = admin.post(f"/admin/users/{target.id}/admin", data={"action": "demote"})
    assert response.status_code == 303
    assert "is no longer an admin" in admin.get("/admin/users").get_data(as_text=True)
    assert fresh(app, target.id).is_admin is False
    assert fresh(app, target.id).password_hash == before.password_hash
    assert target_client.get("/admin/users").status_code == 403

    rows = audit_rows(app, object_type="user")
    assert [r.action for r in rows] == ["user.promote", "user.demote"]
    for row in rows:
        assert (row.actor_id, row.actor) == (admin_user.id, admin_user.email)
        assert row.object_id == target.id
        assert row.details["email"] == "pat@example.com"
        assert "pat@example.com" in row.summary


@pytest.mark.parametrize(
    ("is_admin", "action", "message"),
    [
        (True, "promote", "is already an admin; nothing changed."),
        (False, "demote", "is not an admin; nothing changed."),
    ],
)
def test_admin_flag_no_op_says_so_and_records_nothing(app, admin, is_admin, action, message):
    target = make_user(app, email="pat@example.com", is_admin=is_admin)
    response = admin.post(f"/admin/users/{target.id}/admin", data={"action": action})
    assert response.status_code == 303
    assert "pat@example.com " + message in admin.get("/admin/users").get_data(as_text=True)
    assert fresh(app, target.id).is_admin is is_admin
    assert audit_rows(app) == []


def test_the_last_active_admin_cannot_be_demoted(app, admin, admin_user):
    response = admin.post(f"/admin/users/{admin_user.id}/admin?q=boss", data={"action": "demote"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "boss@example.com is the last active admin, so they cannot be demoted." in html
    assert emails_on(html) == ["boss@example.com"]  # the list, with its search, is shown again
    assert fresh(app, admin_user.id).is_admin is True
    assert audit_rows(app) == []


def test_a_disabled_admin_does_not_count_so_the_active_one_is_the_last(app, admin, admin_user):
    dormant = make_user(app, email="dormant@example.com", is_admin=True, is_active=False)
    for action_url, action, word in (
        (f"/admin/users/{admin_user.id}/admin", "demote", "demoted"),
        (f"/admin/users/{admin_user.id}/active", "disable", "disabled"),
    ):
        response = admin.post(action_url, data={"action": action})
        assert response.status_code == 409
        assert f"is the last active admin, so they cannot be {word}." in response.get_data(as_text=True)
    user = fresh(app, admin_user.id)
    assert user.is_admin is True and user.is_active is True
    # The disabled admin can still lose the flag: they are not the one keeping the admin area reachable.
    assert admin.post(f"/admin/users/{dormant.id}/admin", data={"action": "demote"}).status_code == 303
    assert fresh(app, dormant.id).is_admin is False
    assert [r.action for r in audit_rows(app)] == ["user.demote"]


def test_an_admin_can_step_down_while_another_remains(app, admin, admin_user):
    make_user(app, email="heir@example.com", is_admin=True)
    response = admin.post(f"/admin/users/{admin_user.id}/admin", data={"action": "demote"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert fresh(app, admin_user.id).is_admin is False
    assert admin.get("/admin/users").status_code == 403
    assert [r.action for r in audit_rows(app)] == ["user.demote"]


# -- active flag -------------------------------------------------------------------------------------------


def test_disable_signs_the_user_out_everywhere_and_blocks_sign_in(app, admin, admin_user):
    target = make_user(app, email="pat@example.com")
    bystander = make_user(app, email="by@example.com")
    add_reviews(app, target.id, [datetime.now(UTC)])
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    for client, email in ((laptop, target.email), (phone, target.email), (other, bystander.email)):
        assert login(client, email).status_code == 303
    assert laptop.get("/dashboard").status_code == 200
    before = fresh(app, target.id)

    response = admin.post(f"/admin/users/{target.id}/active", data={"action": "disable"})
    assert response.status_code == 303
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "pat@example.com is disabled and was signed out of 2 sign-ins." in page
    assert "password and progress are unchanged" in page

    # Mid-session: the very next request is anonymous, on every device.
    for client in (laptop, phone):
        response = client.get("/dashboard")
        assert response.status_code == 303 and "/auth/login" in response.headers["Location"]
    assert other.get("/dashboard").status_code == 200
    assert admin.get("/admin/users").status_code == 200
    assert open_sessions(app, target.id) == 0 and open_sessions(app, bystander.id) == 1
    # Cannot sign in while disabled, even with the right password.
    refused = login(app.test_client(), target.email)
    assert refused.status_code == 422
    assert b"Email or password is incorrect." in refused.data

    after = fresh(app, target.id)
    assert after.is_active is False
    assert (after.password_hash, after.is_admin) == (before.password_hash, before.is_admin)
    assert review_count(app, target.id) == 1
    (row,) = audit_rows(app)
    assert (row.action, row.actor_id, row.actor) == ("user.disable", admin_user.id, admin_user.email)
    assert (row.object_type, row.object_id) == ("user", target.id)
    assert row.details == {"email": "pat@example.com", "sessions_ended": 2}


def test_enable_lets_the_user_sign_in_again_with_the_same_password(app, admin, admin_user):
    target = make_user(app, email="pat@example.com")
    old_device = app.test_client()
    assert login(old_device, target.email).status_code == 303
    admin.post(f"/admin/users/{target.id}/active", data={"action": "disable"})
    response = admin.post(f"/admin/users/{target.id}/active", data={"action": "enable"})
    assert response.status_code == 303
    assert "pat@example.com is enabled and can sign in again" in admin.get("/admin/users").get_data(
        as_text=True
    )
    assert fresh(app, target.id).is_active is True
    # The sign-ins ended by disabling stay ended; a new sign-in works.
    assert old_device.get("/dashboard").status_code == 303
    device = app.test_client()
    assert login(device, target.email).status_code == 303
    assert device.get("/dashboard").status_code == 200
    assert [r.action for r in audit_rows(app)] == ["user.disable", "user.enable"]
    assert audit_rows(app)[1].details == {"email": "pat@example.com"}


@pytest.mark.parametrize(
    ("is_active", "action", "message"),
    [(True, "enable", "is already enabled"), (False, "disable", "is already disabled")],
)
def test_active_flag_no_op_says_so_and_records_nothing(app, admin, is_active, action, message):
    target = make_user(app, email="pat@example.com", is_active=is_active)
    response = admin.post(f"/admin/users/{target.id}/active", data={"action": action})
    assert response.status_code == 303
    assert f"pat@example.com {message}; nothing changed." in admin.get("/admin/users").get_data(as_text=True)
    assert audit_rows(app) == []


def test_an_admin_cannot_disable_themselves(app, admin, admin_user):
    make_user(app, email="helper@example.com", is_admin=True)
    response = admin.post(f"/admin/users/{admin_user.id}/active", data={"action": "disable"})
    assert response.status_code == 409
    assert "You cannot disable your own account." in response.get_data(as_text=True)
    assert fresh(app, admin_user.id).is_active is True
    assert open_sessions(app, admin_user.id) == 1
    assert admin.get("/admin/users").status_code == 200
    assert audit_rows(app) == []


# -- bad requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["admin", "active"])
@pytest.mark.parametrize("data", [{}, {"action": ""}, {"action": "PROMOTE"}, {"action": "delete"}])
def test_an_unknown_action_is_400(app, admin, route, data):
    target = make_user(app)
    assert admin.post(f"/admin/users/{target.id}/{route}", data=data).status_code == 400
    assert audit_rows(app) == []


@pytest.mark.parametrize(("route", "action"), [("admin", "promote"), ("active", "disable")])
def test_an_unknown_user_is_404(app, admin, route, action):
    assert admin.post(f"/admin/users/999999/{route}", data={"action": action}).status_code == 404
    assert admin.post(f"/admin/users/99999999999/{route}", data={"action": action}).status_code == 404


def test_the_row_forms_carry_the_list_query_and_csrf(app, admin):
    target = make_user(app, email="pat@example.com")
    html = admin.get("/admin/users?q=pat&page=1").get_data(as_text=True)
    row = re.search(rf'<tr id="user-{target.id}">.*?</tr>', html, re.S).group(0)
    assert f'action="/admin/users/{target.id}/admin?q=pat&amp;page=1"' in row
    assert f'hx-post="/admin/users/{target.id}/active?q=pat&amp;page=1"' in row
    assert 'hx-target="closest tr"' in row and 'name="csrf_token"' in row


# -- htmx row actions ----------------------------------------------------------------------------------------


def test_htmx_action_returns_the_updated_row_with_its_message(app, admin):
    target = make_user(app, email="pat@example.com")
    response = admin.post(
        f"/admin/users/{target.id}/admin?q=pat", data={"action": "promote"}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="user-{target.id}">')
    assert "<html" not in html and "Remove admin" in html
    assert 'id="alerts" hx-swap-oob="innerHTML"' in html and "pat@example.com is now an admin." in html
    assert "HX-Request" in response.headers["Vary"]
    assert fresh(app, target.id).is_admin is True
    # The message went out with the row, so it does not show up again on the next page.
    assert "is now an admin" not in admin.get("/admin/users").get_data(as_text=True)


def test_htmx_refusal_is_409_in_the_alerts_region(app, admin, admin_user):
    response = admin.post(
        f"/admin/users/{admin_user.id}/admin", data={"action": "demote"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#alerts"
    assert "last active admin" in response.get_data(as_text=True)
    assert fresh(app, admin_user.id).is_admin is True


def test_csrf_is_required_for_user_changes(app, make_app):
    strict = make_app(WTF_CSRF_ENABLED=True)
    boss = make_user(strict, is_admin=True)
    target = make_user(strict)
    client = strict.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/auth/login", data={"email": boss.email, "password": PASSWORD, "csrf_token": token})
    response = client.post(f"/admin/users/{target.id}/admin", data={"action": "promote"})
    assert response.status_code == 400
    assert fresh(strict, target.id).is_admin is False
    html = client.get("/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post(f"/admin/users/{target.id}/admin", data={"action": "promote", "csrf_token": token})
    assert response.status_code == 303
    assert fresh(strict, target.id).is_admin is True


# -- audit log ---------------------------------------------------------------------------------------------


def add_entry(app, action: str, at: datetime, *, actor="ann@example.com", actor_id=7, **kwargs) -> int:
    """An audit row at a given time, by a given actor."""
    with app.app_context():
        entry = audit.record(action, actor=SimpleNamespace(id=actor_id, email=actor), **kwargs)
        entry.created_at = at
        db.session.commit()
        return entry.id


def entry_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="audit-(\d+)">', html)]


@pytest.fixture
def entries(app):
    """A few entries of different kinds, a day apart, oldest first."""
    base = datetime(2025, 3, 10, 12, tzinfo=UTC)
    return [
        add_entry(
            app, "set.publish", base, object_type="question_set", object_id=3, summary="Published set A"
        ),
        add_entry(
            app,
            "question.edit",
            base + timedelta(days=1),
            actor="bob@example.com",
            object_type="question",
            object_id=5,
            summary="Edited question 100% done",
            changed={"answer": ["old", "new <b>"]},
        ),
        add_entry(
            app,
            "user.disable",
            base + timedelta(days=2),
            object_type="user",
            object_id=9,
            summary="Disabled pat@example.com",
            email="pat@example.com",
        ),
        add_entry(
            app, "bank.import", base + timedelta(days=3), actor="system", actor_id=None, summary="Imported"
        ),
    ]


def test_audit_page_lists_entries_newest_first_with_details(app, admin, entries):
    response = admin.get("/admin/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert entry_ids(html) == entries[::-1]
    assert "4 entries, newest first." in html
    assert "2025-03-11 12:00:00 UTC" in html
    assert "bob@example.com" in html and "<code>question.edit</code>" in html
    # Details as JSON in a <details> element, escaped.
    assert "<details><summary>Details</summary><pre>" in html
    assert "&#34;new &lt;b&gt;&#34;" in html or "&quot;new &lt;b&gt;&quot;" in html
    # The action and type selects offer exactly what is in the log.
    select = re.search(r'<select id="audit-action".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', select) == [
        "",
        "bank.import",
        "question.edit",
        "set.publish",
        "user.disable",
    ]
    # No controls that could change an entry.
    table = re.search(r'<table class="table" id="audit-log">.*?</table>', html, re.S).group(0)
    assert "<form" not in table and "<button" not in table


def test_audit_rows_link_to_the_objects_admin_page_when_there_is_one(app, admin, entries):
    html = admin.get("/admin/audit").get_data(as_text=True)
    user_row = re.search(rf'<tr id="audit-{entries[2]}">.*?</tr>', html, re.S).group(0)
    assert 'href="/admin/users?q=pat@example.com"' in user_row and "user #9" in user_row
    question_row = re.search(rf'<tr id="audit-{entries[1]}">.*?</tr>', html, re.S).group(0)
    if "admin.question_edit" in app.view_functions:
        assert 'href="/admin/questions/5/edit"' in question_row
    else:
        assert "<a " not in question_row
    system_row = re.search(rf'<tr id="audit-{entries[3]}">.*?</tr>', html, re.S).group(0)
    assert "<a " not in system_row and "system" in system_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "question.edit"}, [1]),
        ({"action": "no.such"}, []),
        ({"actor": "BOB@"}, [1]),
        ({"actor": "example.com"}, [2, 1, 0]),
        ({"object_type": "user"}, [2]),
        ({"text": "100%"}, [1]),
        ({"text": "%"}, [1]),
        ({"text": "published SET"}, [0]),
        ({"date_from": "2025-03-11"}, [3, 2, 1]),
        ({"date_to": "2025-03-11"}, [1, 0]),
        ({"date_from": "2025-03-11", "date_to": "2025-03-12"}, [2, 1]),
        ({"date_from": "2025-03-11", "date_to": "2025-03-11", "actor": "bob"}, [1]),
    ],
)
def test_audit_filters(app, admin, entries, query, expected):
    response = admin.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert entry_ids(response.get_data(as_text=True)) == [entries[i] for i in expected]


def test_audit_dates_are_days_in_the_viewers_time_zone(app, client, auth):
    viewer = make_user(app, is_admin=True, timezone="Pacific/Auckland")
    # 12:30 UTC on the 14th is 01:30 on the 15th in Auckland (UTC+13 in January).
    late = add_entry(app, "role.edit", datetime(2025, 1, 14, 12, 30, tzinfo=UTC), summary="x")
    early = add_entry(app, "role.edit", datetime(2025, 1, 14, 10, 0, tzinfo=UTC), summary="y")
    auth.login(viewer.email)
    html = client.get("/admin/audit?date_from=2025-01-15&date_to=2025-01-15").get_data(as_text=True)
    assert entry_ids(html) == [late]
    assert "2025-01-14 12:30:00 UTC" in html and "2025-01-15 01:30:00 NZDT" in html
    assert entry_ids(client.get("/admin/audit?date_to=2025-01-14").get_data(as_text=True)) == [early]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"date_to": "2025-02-30"}, "Enter a date as YYYY-MM-DD"),
        ({"date_to": "9999-12-31"}, "Enter a date as YYYY-MM-DD"),
        ({"date_from": "0001-01-01"}, None),
        ({"date_from": "2025-03-12", "date_to": "2025-03-11"}, "The end date is before the start date."),
    ],
)
def test_audit_invalid_dates_get_a_message_not_an_error(app, admin, entries, query, message):
    response = admin.get("/admin/audit", query_string=query)
    html = response.get_data(as_text=True)
    if message is None:  # a far-past date is valid
        assert response.status_code == 200
        assert len(entry_ids(html)) == 4
        return
    assert response.status_code == 422
    assert message in html and 'aria-invalid="true"' in html
    assert entry_ids(html) == []
    assert "to see entries" in html
    for value in query.values():
        assert f'value="{value}"' in html


def test_audit_pagination_keeps_the_filters(app, admin):
    base = datetime(2025, 1, 1, tzinfo=UTC)
    ids = [
        add_entry(app, "question.edit", base + timedelta(minutes=i), summary=f"edit {i}") for i in range(60)
    ]
    add_entry(app, "set.publish", base, summary="other")
    first = admin.get("/admin/audit?action=question.edit").get_data(as_text=True)
    assert entry_ids(first) == ids[::-1][:50]
    assert "Page 1 of 2" in first
    assert 'href="/admin/audit?page=2&amp;action=question.edit"' in first
    second = admin.get("/admin/audit?page=2&action=question.edit").get_data(as_text=True)
    assert entry_ids(second) == ids[::-1][50:]
    assert admin.get("/admin/audit?page=7").status_code == 200


def test_audit_rows_cannot_be_edited_or_deleted_through_the_orm(app, entries):
    with app.app_context():
        row = db.session.get(AuditLog, entries[0])
        row.summary = "rewritten"
        with pytest.raises(RuntimeError, match="cannot be edited"):
            db.session.commit()
        db.session.rollback()
        row = db.session.get(AuditLog, entries[0])
        db.session.delete(row)
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditLog, entries[0]).summary == "Published set A"
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == 4


def test_no_admin_url_can_change_the_audit_log(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")]
    assert [rule.endpoint for rule in rules] == ["admin.audit"]
    for rule in rules:
        assert not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}, rule


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writing_to_the_audit_page_is_405(app, admin, entries, method):
    assert admin.open("/admin/audit", method=method).status_code == 405
    assert len(audit_rows(app)) == 4


def test_user_changes_show_up_in_the_audit_log(app, admin):
    target = make_user(app, email="pat@example.com")
    admin.post(f"/admin/users/{target.id}/active", data={"action": "disable"})
    html = admin.get("/admin/audit?object_type=user&actor=boss").get_data(as_text=True)
    assert "<code>user.disable</code>" in html
    assert "Disabled pat@example.com and ended 0 sign-ins" in html
    assert "boss@example.com" in html
