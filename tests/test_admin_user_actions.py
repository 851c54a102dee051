"""Admin users: the admin and active flags (with sign-outs), the last-admin rules, bad requests, htmx
row actions; every change audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from careerprep.extensions import db
from careerprep.models import Review, User, UserSession
from tests.conftest import PASSWORD, AuthActions, make_user
from tests.helpers import add_reviews, audit_rows, emails_on, sign_in


def fresh(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


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


# -- access ------------------------------------------------------------------------------------------------


def test_a_non_admin_cannot_promote_themselves(app, logged_in, user):
    assert logged_in.post(f"/admin/users/{user.id}/admin", data={"action": "promote"}).status_code == 403
    assert fresh(app, user.id).is_admin is False
    assert audit_rows(app) == []


# -- admin flag --------------------------------------------------------------------------------------------


def test_promote_then_demote_changes_only_the_flag_and_is_audited(app, admin, admin_user):
    target = make_user(app, email="pat@example.com")
    other = make_user(app, email="other@example.com")
    add_reviews(app, target.id, [datetime.now(UTC)])
    other_client = app.test_client()
    sign_in(other_client, other.email)
    target_client = app.test_client()
    sign_in(target_client, target.email)
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
        sign_in(client, email)
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
    refused = AuthActions(app.test_client()).login(target.email)
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
    sign_in(old_device, target.email)
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
    sign_in(device, target.email)
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
