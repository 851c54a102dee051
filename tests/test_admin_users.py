"""Admin users: the users page's listing, search, filters, pages and its htmx fragment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import count_queries, make_user
from tests.helpers import add_reviews, emails_on

HX = {"HX-Request": "true", "HX-Target": "user-results"}


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
