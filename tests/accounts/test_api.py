"""Tokens, the signed-in user, and user administration through the API."""

import base64
import json

import pytest
from sqlalchemy import func, select

from app.accounts.models import ApiToken, User
from app.accounts.services import authenticate
from app.api import encode_cursor
from app.db import MAX_ID
from tests.factories import PASSWORD, add_member, create_cohort, create_program, create_user
from tests.http import bearer, token_for

NEW_USER = {"email": "Grace@Example.com", "name": "Grace", "password": "a long passphrase"}


@pytest.fixture
def admin(db) -> dict:
    """A site admin's bearer headers."""
    with db() as session:
        user = create_user(session, is_admin=True, email="admin@example.com")
        return bearer(token_for(session, user))


def _count(db, model) -> int:
    """Rows of a model."""
    with db() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- POST /api/v1/tokens -------------------------------------------------------------------------

def test_a_token_is_issued_for_good_credentials_and_shown_once(call, client, db):
    with db() as session:
        user = create_user(session)
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": user.email.upper(), "password": PASSWORD, "name": "HR sync"})
    assert response.status_code == 201
    issued = response.get_json()
    assert issued["token"].startswith("cc_")
    assert issued["token"].startswith(issued["prefix"])
    assert issued["name"] == "HR sync"
    assert issued["revoked_at"] is None

    me = call(client, "GET", "/api/v1/me", headers=bearer(issued["token"]))
    assert me.status_code == 200
    assert me.get_json()["id"] == user.id

    listed = call(client, "GET", "/api/v1/tokens", headers=bearer(issued["token"])).get_json()
    assert [t["id"] for t in listed["items"]] == [issued["id"]]
    assert listed["items"][0]["token"] is None
    assert issued["token"] not in json.dumps(listed)
    with db() as session:
        stored = session.get(ApiToken, issued["id"])
        assert issued["token"] not in (stored.token_hash, stored.prefix)


@pytest.mark.parametrize("who", ["wrong-password", "unknown-email", "invited-no-password",
                                 "disabled-wrong-password"])
def test_a_token_is_refused_with_one_message_for_every_failure(call, client, db, table_counts,
                                                                who):
    with db() as session:
        create_user(session, email="known@example.com")
        create_user(session, email="invited@example.com", password=None)
        create_user(session, email="disabled@example.com", is_disabled=True)
    credentials = {
        "wrong-password": ("known@example.com", "not the password"),
        "unknown-email": ("nobody@example.com", PASSWORD),
        "invited-no-password": ("invited@example.com", PASSWORD),
        # The right password to a disabled account is told more: test_disabled_sign_in.py.
        "disabled-wrong-password": ("disabled@example.com", "not the password"),
    }[who]
    before = table_counts()
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": credentials[0], "password": credentials[1]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "sign_in_failed"
    assert error["message"].startswith("That e-mail and password do not match an account")
    assert table_counts() == before


# --- GET /api/v1/me ------------------------------------------------------------------------------

def test_me_lists_my_cohorts_with_my_roles(call, client, db):
    with db() as session:
        user = create_user(session, name="Lena", timezone="Europe/Berlin")
        learning = create_cohort(session, name="Spring")
        facilitating = create_cohort(session, name="Autumn")
        create_cohort(session, name="Not mine")
        add_member(session, learning, user, role="learner")
        add_member(session, facilitating, user, role="facilitator")
        headers = bearer(token_for(session, user))
        expected = [
            {"cohort_id": learning.id, "cohort_name": "Spring",
             "program_id": learning.program_id, "program_title": learning.program.title,
             "role": "learner"},
            {"cohort_id": facilitating.id, "cohort_name": "Autumn",
             "program_id": facilitating.program_id,
             "program_title": facilitating.program.title, "role": "facilitator"},
        ]
    body = call(client, "GET", "/api/v1/me", headers=headers).get_json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    assert body["name"] == "Lena"
    assert body["timezone"] == "Europe/Berlin"
    assert body["is_admin"] is False and body["can_own_programs"] is False
    assert body["cohorts"] == expected


def test_me_works_with_the_session_cookie(call, client, db, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    body = call(client, "GET", "/api/v1/me").get_json()
    assert body["id"] == user.id
    assert body["cohorts"] == []


def test_program_owners_see_the_cohorts_of_their_programs_as_owner(call, client, db):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        owned = create_cohort(session, program=program)
        # A membership in their own program's cohort never demotes the owner.
        also_member = create_cohort(session, program=program)
        add_member(session, also_member, owner, role="learner")
        elsewhere = create_cohort(session)
        add_member(session, elsewhere, owner, role="learner")
        create_cohort(session)
        headers = bearer(token_for(session, owner))
    body = call(client, "GET", "/api/v1/me", headers=headers).get_json()
    assert body["can_own_programs"] is True
    assert [(c["cohort_id"], c["role"]) for c in body["cohorts"]] == [
        (owned.id, "owner"), (also_member.id, "owner"), (elsewhere.id, "learner")]
    for cohort in body["cohorts"]:
        role = call(client, "GET", f"/api/v1/cohorts/{cohort['cohort_id']}",
                    headers=headers).get_json()["my_role"]
        assert role == cohort["role"], "GET /me and GET /cohorts/{id} must agree on roles"


# --- POST /api/v1/users --------------------------------------------------------------------------

def test_an_admin_creates_a_user_who_can_then_sign_in(call, client, app, db, admin):
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**NEW_USER, "can_own_programs": True, "timezone": "Asia/Tokyo"})
    assert response.status_code == 201
    created = response.get_json()
    assert created["email"] == "grace@example.com"
    assert created["can_own_programs"] is True and created["is_admin"] is False
    assert created["timezone"] == "Asia/Tokyo"
    assert created["has_password"] is True
    assert "password" not in created and "password_hash" not in created
    with db():
        assert authenticate("grace@example.com", NEW_USER["password"]).id == created["id"]


def test_a_password_keeps_its_spaces(call, client, db, login, admin):
    """What the person types is the password, on the API and on the sign-in form alike."""
    password = "  spaced out passphrase  "
    created = call(client, "POST", "/api/v1/users", headers=admin,
                   json={**NEW_USER, "password": password})
    assert created.status_code == 201
    with db() as session:
        user = session.get(User, created.get_json()["id"])
    login(client, user, password=password)
    stripped = call(client, "POST", "/api/v1/tokens",
                    json={"email": user.email, "password": password.strip()})
    assert stripped.status_code == 422
    exact = call(client, "POST", "/api/v1/tokens", json={"email": user.email, "password": password})
    assert exact.status_code == 201


def test_a_duplicate_email_is_refused_whatever_its_case(call, client, db, admin, table_counts):
    call(client, "POST", "/api/v1/users", headers=admin, json=NEW_USER)
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**NEW_USER, "email": "GRACE@example.COM", "name": "Other"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "email_taken"
    assert set(error["fields"]) == {"email"}
    assert table_counts() == before


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
def test_a_bad_email_is_named(call, client, admin, table_counts, email):
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**NEW_USER, "email": email})
    assert response.status_code == 422
    assert "email" in response.get_json()["error"]["fields"]
    assert table_counts() == before


@pytest.mark.parametrize("changes,field", [
    ({"password": "short"}, "password"),
    ({"password": "password1"}, "password"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"name": "Grace\r\nBcc: all@example.com"}, "name"),
])
def test_service_rules_are_reported_per_field(call, client, admin, table_counts, changes,
                                              field):
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin,
                    json={**NEW_USER, **changes})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {field}
    assert table_counts() == before


@pytest.mark.parametrize("extra", [
    {"id": 1}, {"password_hash": "scrypt:forged"}, {"is_disabled": True},
    {"created_at": "2020-01-01T00:00:00Z"}, {"has_password": False},
    {"last_seen_at": "2020-01-01T00:00:00Z"},
])
def test_mass_assignment_of_protected_fields_is_refused(call, client, admin, table_counts,
                                                         extra):
    """AUTH-3: fields a caller must not set are refused outright, and nothing is created."""
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=admin, json={**NEW_USER, **extra})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        name: "This field is not accepted here." for name in extra}
    assert table_counts() == before


@pytest.mark.parametrize("body", [NEW_USER, {"email": 5}, {}, {**NEW_USER, "id": 1}])
def test_non_admins_are_refused_before_their_input_is_read(call, client, db, table_counts,
                                                           body):
    """403 whatever the body: a caller who may not create users learns nothing about fields."""
    with db() as session:
        headers = bearer(token_for(session, create_user(session, can_own_programs=True)))
    before = table_counts()
    response = call(client, "POST", "/api/v1/users", headers=headers, json=body)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "not_allowed"
    assert "fields" not in response.get_json()["error"]
    assert table_counts() == before


# --- PATCH /api/v1/users/{id} ---------------------------------------------------------------

def test_an_admin_grants_and_withdraws_site_rights_and_disables(call, client, db, admin):
    with db() as session:
        user = create_user(session)
        secret = token_for(session, user)
    path = f"/api/v1/users/{user.id}"
    granted = call(client, "PATCH", path, headers=admin,
                   json={"can_own_programs": True, "is_admin": True})
    assert granted.status_code == 200
    assert (granted.get_json()["can_own_programs"], granted.get_json()["is_admin"]) == (
        True, True)
    assert call(client, "GET", "/api/v1/me", headers=bearer(secret)).status_code == 200
    disabled = call(client, "PATCH", path, headers=admin,
                    json={"is_admin": False, "is_disabled": True})
    body = disabled.get_json()
    assert (body["is_admin"], body["can_own_programs"], body["is_disabled"]) == (
        False, True, True)
    # A disabled account's tokens stop working at once.
    assert call(client, "GET", "/api/v1/me", headers=bearer(secret)).status_code == 401
    enabled = call(client, "PATCH", path, headers=admin, json={"is_disabled": False})
    assert enabled.get_json()["is_disabled"] is False
    with db() as session:
        assert session.get(User, user.id).can_own_programs is True


def test_only_site_admins_change_site_rights(call, client, db, admin, table_counts):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        owner_headers = bearer(token_for(session, owner))
    before = table_counts()
    refused = call(client, "PATCH", f"/api/v1/users/{owner.id}", headers=owner_headers,
                   json={"is_admin": True})
    assert refused.status_code == 403
    assert call(client, "PATCH", f"/api/v1/users/{owner.id}", headers=owner_headers,
                json={"is_admin": "yes please"}).status_code == 403
    assert call(client, "PATCH", f"/api/v1/users/{owner.id}",
                json={"is_admin": True}).status_code == 401
    assert table_counts() == before
    with db() as session:
        assert session.get(User, owner.id).is_admin is False
    missing = call(client, "PATCH", f"/api/v1/users/{MAX_ID}", headers=admin,
                   json={"is_admin": True})
    assert missing.status_code == 404
    beyond = call(client, "PATCH", f"/api/v1/users/{MAX_ID + 1}", headers=admin,
                  json={"is_admin": True})
    assert beyond.status_code == 404


def test_an_admin_cannot_demote_or_disable_themselves_through_the_api(call, client, db):
    with db() as session:
        me = create_user(session, is_admin=True)
        headers = bearer(token_for(session, me))
    for body in ({"is_admin": False}, {"is_disabled": True}):
        response = call(client, "PATCH", f"/api/v1/users/{me.id}", headers=headers, json=body)
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "self_demotion"
    with db() as session:
        assert session.get(User, me.id).is_admin and not session.get(User, me.id).is_disabled


def test_a_rights_patch_takes_booleans_only(call, client, db, admin):
    with db() as session:
        user = create_user(session)
    for body in ({"is_admin": "true"}, {"can_own_programs": 1}, {"name": "x"}):
        response = call(client, "PATCH", f"/api/v1/users/{user.id}", headers=admin, json=body)
        assert response.status_code == 422, body
    with db() as session:
        assert not session.get(User, user.id).is_admin


def test_a_token_request_cannot_choose_its_owner_or_lifetime(call, client, db, table_counts):
    with db() as session:
        user = create_user(session)
        victim = create_user(session)
    before = table_counts()
    for extra in ({"user_id": victim.id}, {"expires_at": None}, {"token_hash": "0" * 64}):
        response = call(client, "POST", "/api/v1/tokens",
                        json={"email": user.email, "password": PASSWORD, **extra})
        assert response.status_code == 422
        assert set(response.get_json()["error"]["fields"]) == set(extra)
    assert table_counts() == before


def test_a_token_label_is_one_line(call, client, db, table_counts):
    with db() as session:
        user = create_user(session)
    before = table_counts()
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": user.email, "password": PASSWORD, "name": "HR\nsync"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"name"}
    assert table_counts() == before


# --- GET /api/v1/users ---------------------------------------------------------------------------

def test_walking_the_cursor_returns_every_user_once_in_order(call, client, db, admin):
    with db() as session:
        for _ in range(9):
            create_user(session)
        expected = list(session.scalars(select(User.id).order_by(User.id)))
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = call(client, "GET", "/api/v1/users", headers=admin, query_string=query).get_json()
        pages += 1
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ends"
    assert seen == expected
    assert pages == 4


def test_a_full_last_page_has_no_next_cursor(call, client, db, admin):
    with db() as session:
        create_user(session)
    body = call(client, "GET", "/api/v1/users", headers=admin,
                query_string={"limit": 2}).get_json()
    assert len(body["items"]) == 2
    assert body["next_cursor"] is None


def test_the_user_list_can_be_searched(call, client, db, admin):
    with db() as session:
        create_user(session, email="zoe@example.org", name="Zoë Quinn")
        create_user(session, email="max@example.org", name="Max")
    body = call(client, "GET", "/api/v1/users", headers=admin,
                query_string={"q": "QUINN"}).get_json()
    assert [item["email"] for item in body["items"]] == ["zoe@example.org"]


def test_a_cursor_past_the_end_gives_an_empty_page(call, client, admin):
    body = call(client, "GET", "/api/v1/users", headers=admin,
                query_string={"cursor": encode_cursor(MAX_ID)}).get_json()
    assert body == {"items": [], "next_cursor": None}


def _forged(payload) -> str:
    """A cursor made by hand from any JSON value."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "not a cursor!", "abc", "%%%", _forged({"after": -1}), _forged({"after": "5"}),
    _forged({"after": True}), _forged({"after": 1.5}), _forged({"after": MAX_ID + 1}),
    _forged({"after": 2**70}),
    _forged([1]), _forged({"before": 3}), _forged(None),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
])
def test_a_bad_cursor_is_a_400(call, client, admin, cursor):
    response = call(client, "GET", "/api/v1/users", headers=admin,
                    query_string={"cursor": cursor})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_cursor"


@pytest.mark.parametrize("limit", ["0", "201", "-1", "ten", "1.5"])
def test_a_limit_out_of_range_is_a_422(call, client, admin, limit):
    response = call(client, "GET", "/api/v1/users", headers=admin,
                    query_string={"limit": limit})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"limit"}


@pytest.mark.parametrize("limit", ["1", "200"])
def test_the_limits_of_the_page_size_are_accepted(call, client, admin, limit):
    response = call(client, "GET", "/api/v1/users", headers=admin,
                    query_string={"limit": limit})
    assert response.status_code == 200


def test_unknown_query_parameters_are_refused(call, client, admin):
    response = call(client, "GET", "/api/v1/users", headers=admin,
                    query_string={"order": "email"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"order"}


# --- DELETE /api/v1/tokens/{id} ------------------------------------------------------------------

def test_revoking_a_token_stops_it_at_once(call, client, db):
    with db() as session:
        user = create_user(session)
        keep = token_for(session, user)
        doomed = token_for(session, user)
        doomed_id = session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))
    response = call(client, "DELETE", f"/api/v1/tokens/{doomed_id}", headers=bearer(keep))
    assert response.status_code == 204
    assert response.get_data() == b""
    refused = call(client, "GET", "/api/v1/me", headers=bearer(doomed))
    assert refused.status_code == 401
    assert call(client, "GET", "/api/v1/me", headers=bearer(keep)).status_code == 200
    again = call(client, "DELETE", f"/api/v1/tokens/{doomed_id}", headers=bearer(keep))
    assert again.status_code == 204
    listed = call(client, "GET", "/api/v1/tokens", headers=bearer(keep)).get_json()["items"]
    assert {t["id"]: t["revoked_at"] is not None for t in listed} == {
        doomed_id: True, doomed_id - 1: False}


def test_a_token_can_revoke_itself(call, client, db):
    with db() as session:
        user = create_user(session)
        secret = token_for(session, user)
        token_id = session.scalar(select(ApiToken.id))
    assert call(client, "DELETE", f"/api/v1/tokens/{token_id}",
                headers=bearer(secret)).status_code == 204
    assert call(client, "GET", "/api/v1/tokens", headers=bearer(secret)).status_code == 401


def test_someone_elses_token_is_not_found_and_keeps_working(call, client, db, table_counts):
    with db() as session:
        owner_secret = token_for(session, create_user(session))
        owner_token_id = session.scalar(select(ApiToken.id))
        intruder = bearer(token_for(session, create_user(session)))
    before = table_counts()
    response = call(client, "DELETE", f"/api/v1/tokens/{owner_token_id}", headers=intruder)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert table_counts() == before
    assert call(client, "GET", "/api/v1/me", headers=bearer(owner_secret)).status_code == 200


def test_revoking_through_the_session_needs_the_csrf_header(call, client, db, login,
                                                            api_headers):
    with db() as session:
        user = create_user(session)
        token_for(session, user)
        token_id = session.scalar(select(ApiToken.id))
    login(client, user)
    refused = call(client, "DELETE", f"/api/v1/tokens/{token_id}")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    accepted = call(client, "DELETE", f"/api/v1/tokens/{token_id}", headers=api_headers())
    assert accepted.status_code == 204
