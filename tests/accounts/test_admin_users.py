"""The user admin page: hidden from everyone but site admins; create, rights, pages, search."""

import pytest
from sqlalchemy import func, select

from app.accounts import tokens
from app.accounts.models import User
from app.audit import AuditEntry
from app.db import utcnow
from tests.factories import PASSWORD, create_user


@pytest.fixture
def admin(db):
    """A site admin."""
    with db() as session:
        return create_user(session, is_admin=True, email="admin@example.com", name="Admin")


@pytest.fixture
def as_admin(client, login, admin):
    """The client, signed in as the admin."""
    login(client, admin)
    return client


def _create(client, **values):
    """Submit the create-user form."""
    data = {"create-email": "new@example.com", "create-name": "New Person",
            "create-password": PASSWORD, "create-submit": "Create user"}
    data.update({f"create-{key}": value for key, value in values.items()})
    return client.post_form("/admin/users", data)


def _set_roles(client, user_id, **flags):
    """Submit a user's rights form (unchecked boxes are left out, as browsers do)."""
    data = {name: "y" for name, on in flags.items() if on}
    return client.post_form(f"/admin/users/{user_id}/roles", data, token_from="/admin/users")


def _user(db, user_id) -> User:
    """The user as stored now."""
    with db() as session:
        return session.get(User, user_id)


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for response in (client.get("/admin/users"), client.post("/admin/users/1/roles")):
        assert response.status_code in (302, 400)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_the_page_does_not_exist_for_non_admins(app, db, client, login):
    with db() as session:
        member = create_user(session)
        other = create_user(session)
    login(client, member)
    assert client.get("/admin/users").status_code == 404
    response = client.post_form(f"/admin/users/{other.id}/roles", {"is_admin": "y"},
                                token_from="/settings")
    assert response.status_code == 404
    response = client.post_form("/admin/users", {
        "create-email": "x@example.com", "create-name": "X", "create-password": PASSWORD,
        "create-submit": "Create user"}, token_from="/settings")
    assert response.status_code == 404
    assert not _user(db, other.id).is_admin
    with db() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 2
    assert "/admin/users" not in client.get("/").get_data(as_text=True)


def test_admin_creates_a_user_who_can_sign_in(app, db, as_admin, new_client, login):
    response = _create(as_admin, can_own_programs="y")
    assert response.status_code == 302
    assert "Created new@example.com." in as_admin.get("/admin/users").get_data(as_text=True)
    with db() as session:
        user = session.scalar(select(User).where(User.email == "new@example.com"))
        assert (user.name, user.can_own_programs, user.is_admin) == ("New Person", True, False)
    login(new_client(), user)


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"email": "admin@example.com"}, "email", "already exists"),
    ({"email": "ADMIN@example.com"}, "email", "already exists"),
    ({"email": "not-an-email"}, "email", "@-sign"),
    ({"password": "short"}, "password", "Use at least 8 characters."),
    ({"name": ""}, "name", "This field is required."),
])
def test_create_user_validation(app, db, as_admin, values, field, message):
    response = _create(as_admin, **values)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="create-{field}-error"' in body
    assert message in body
    with db() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_granting_program_owner_rights_is_audited(app, db, as_admin, admin):
    with db() as session:
        user = create_user(session)
    response = _set_roles(as_admin, user.id, can_own_programs=True)
    assert response.status_code == 302
    assert _user(db, user.id).can_own_programs
    with db() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.actor_id, entry.target_id) == \
            ("user.site_roles_changed", admin.id, user.id)
        assert entry.details == {"can_own_programs": True}


def test_withdrawing_rights(app, db, as_admin):
    with db() as session:
        user = create_user(session, is_admin=True, can_own_programs=True)
    _set_roles(as_admin, user.id)
    saved = _user(db, user.id)
    assert not saved.is_admin and not saved.can_own_programs


@pytest.mark.parametrize("flags", [{"is_admin": False}, {"is_admin": True, "is_disabled": True}])
def test_admins_cannot_demote_or_disable_themselves(app, db, as_admin, admin, flags):
    response = _set_roles(as_admin, admin.id, **flags)
    assert response.status_code == 302
    page = as_admin.get("/admin/users")
    assert page.status_code == 200
    assert "You cannot remove your own admin rights" in page.get_data(as_text=True)
    saved = _user(db, admin.id)
    assert saved.is_admin and not saved.is_disabled


def test_roles_of_an_unknown_user_are_not_found(app, as_admin):
    assert _set_roles(as_admin, 9999, is_admin=True).status_code == 404


def test_a_roles_form_without_a_csrf_token_changes_nothing(app, db, as_admin):
    with db() as session:
        user = create_user(session)
    response = as_admin.post(f"/admin/users/{user.id}/roles", data={"is_admin": "y"})
    assert response.status_code == 400
    assert not _user(db, user.id).is_admin


def test_the_user_list_is_paged(app, db, as_admin, admin):
    with db() as session:
        users = [create_user(session, email=f"p{n:03}@example.com") for n in range(55)]
    first = as_admin.get("/admin/users").get_data(as_text=True)
    assert "admin@example.com" in first
    assert "p048@example.com" in first and "p049@example.com" not in first
    assert f"after={users[48].id}" in first
    second = as_admin.get(f"/admin/users?after={users[48].id}").get_data(as_text=True)
    assert "p049@example.com" in second and "p054@example.com" in second
    assert "p048@example.com" not in second
    assert "Next page" not in second and "First page" in second


def test_the_user_list_can_be_searched(app, db, as_admin):
    with db() as session:
        create_user(session, email="grace@example.com", name="Grace Hopper")
        create_user(session, email="alan@example.com", name="Alan Turing")
    page = as_admin.get("/admin/users?q=HOPPER").get_data(as_text=True)
    assert "grace@example.com" in page and "alan@example.com" not in page
    page = as_admin.get("/admin/users?q=zzz").get_data(as_text=True)
    assert "No users match." in page


def test_the_list_shows_each_status(app, db, as_admin):
    with db() as session:
        create_user(session, email="off@example.com", is_disabled=True)
        create_user(session, email="invited@example.com", password=None)
    page = as_admin.get("/admin/users").get_data(as_text=True)
    assert ">disabled<" in page and ">invited<" in page and ">active<" in page


# --- the same through the API ----------------------------------------------------------------

def test_the_api_user_list_pages_with_a_cursor(app, db, client, admin):
    with db() as session:
        users = [create_user(session, email=f"api{n}@example.com") for n in range(3)]
        _, secret = tokens.issue_api_token(admin, name="", now=utcnow())
    headers = {"Authorization": f"Bearer {secret}"}
    first = client.get("/api/v1/users?limit=2", headers=headers).get_json()
    assert [item["email"] for item in first["items"]] == ["admin@example.com", "api0@example.com"]
    rest = client.get(f"/api/v1/users?limit=2&cursor={first['next_cursor']}",
                      headers=headers).get_json()
    assert [item["id"] for item in rest["items"]] == [users[1].id, users[2].id]
    assert rest["next_cursor"] is None
    found = client.get("/api/v1/users?q=API2", headers=headers).get_json()
    assert [item["email"] for item in found["items"]] == ["api2@example.com"]
    assert "password_hash" not in found["items"][0]


def test_the_api_user_list_is_for_admins_only(app, db, client):
    with db() as session:
        member = create_user(session)
        _, secret = tokens.issue_api_token(member, name="", now=utcnow())
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_allowed"


def test_disabling_asks_first_and_says_what_will_happen(app, db, as_admin):
    with db() as session:
        user = create_user(session, email="leaving@example.com")
    users = as_admin.get("/admin/users").get_data(as_text=True)
    # A secondary link to the question; the rights form no longer disables anyone.
    assert f'href="/admin/users/{user.id}/disable?q="' in users
    assert 'name="is_disabled"' not in users
    page = as_admin.get(f"/admin/users/{user.id}/disable")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "signed out everywhere" in text and "cannot sign in" in text
    assert not _user(db, user.id).is_disabled  # asking changes nothing
    assert as_admin.post(f"/admin/users/{user.id}/disable", data={}).status_code == 400  # CSRF
    assert not _user(db, user.id).is_disabled
    done = as_admin.post_form(f"/admin/users/{user.id}/disable", {},
                              token_from=f"/admin/users/{user.id}/disable")
    assert done.status_code == 302
    assert _user(db, user.id).is_disabled
    users = as_admin.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{user.id}/enable?q="' in users
    enabled = as_admin.post_form(f"/admin/users/{user.id}/enable", {}, token_from="/admin/users")
    assert enabled.status_code == 302 and not _user(db, user.id).is_disabled


def test_saving_rights_leaves_a_disabled_account_disabled(app, db, as_admin):
    with db() as session:
        user = create_user(session, is_disabled=True)
    _set_roles(as_admin, user.id, can_own_programs=True)
    saved = _user(db, user.id)
    assert saved.can_own_programs and saved.is_disabled


def test_an_admin_is_not_offered_to_disable_themselves(app, db, as_admin, admin):
    assert f"/admin/users/{admin.id}/disable" not in as_admin.get("/admin/users").get_data(
        as_text=True)
    page = as_admin.get(f"/admin/users/{admin.id}/disable").get_data(as_text=True)
    assert "You cannot disable your own account" in page and "<form method=\"post\">" not in page
    as_admin.post_form(f"/admin/users/{admin.id}/disable", {}, token_from="/admin/users")
    assert not _user(db, admin.id).is_disabled


def test_only_site_admins_reach_disable_and_enable(app, db, client, login):
    with db() as session:
        user = create_user(session)
        other = create_user(session, can_own_programs=True)
    login(client, other)
    assert client.get(f"/admin/users/{user.id}/disable").status_code == 404
    for path in (f"/admin/users/{user.id}/disable", f"/admin/users/{user.id}/enable"):
        assert client.post_form(path, {}, token_from="/").status_code == 404
    assert not _user(db, user.id).is_disabled
