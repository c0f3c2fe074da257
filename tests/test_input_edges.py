"""The edges of input: numbers beyond an id's range, NUL characters, CR/LF in a redirect.

Each answered 500 on PostgreSQL before (a value the database cannot take reached it); each
must be a 4xx with the error envelope or a page with the form's message, and change nothing.
"""

import pytest

from app.cohorts.models import Cohort
from app.db import MAX_ID
from app.notifications.models import Notification
from tests.factories import add_member, create_cohort, create_user
from tests.http import bearer, token_for

HUGE = "99999999999999999999"


@pytest.fixture
def member(db):
    """A learner with one unread notification, and their bearer headers."""
    with db() as session:
        cohort = create_cohort(session)
        user = add_member(session, cohort).user
        session.add(Notification(user_id=user.id, kind="test", title="Hello", link="/",
                                 dedupe_key="test:1"))
        return {"user": user, "headers": bearer(token_for(session, user)),
                "cohort": cohort.id}


def _unread(db, user) -> int:
    """How many notifications the user has not read."""
    with db() as session:
        return session.query(Notification).filter_by(user_id=user.id, read_at=None).count()


# --- ids beyond the column range ---------------------------------------------------------------

@pytest.mark.parametrize("ids", [[MAX_ID + 1], [2**63], [0], [-1], [1, int(HUGE)]])
def test_ids_out_of_range_in_a_json_body_are_422(call, client, db, member, ids):
    response = call(client, "POST", "/api/v1/notifications/read", json={"ids": ids},
                    headers=member["headers"])
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]
    assert _unread(db, member["user"]) == 1


def test_the_largest_id_is_a_valid_id_that_matches_nothing(call, client, db, member):
    response = call(client, "POST", "/api/v1/notifications/read", json={"ids": [MAX_ID]},
                    headers=member["headers"])
    assert response.status_code == 200 and response.get_json() == {"unread": 1}


@pytest.mark.parametrize("query", [f"before={HUGE}", f"before={MAX_ID + 1}", "before=-5",
                                   "before=abc"])
def test_a_cursor_out_of_range_on_the_inbox_page_shows_the_first_page(client, login, member,
                                                                      query):
    login(client, member["user"])
    response = client.get(f"/notifications?{query}")
    assert response.status_code == 200
    assert "Hello" in response.get_data(as_text=True)


def test_an_after_out_of_range_on_list_pages_shows_the_first_page(client, db, login, member):
    with db() as session:
        admin = create_user(session, is_admin=True)
        staff = add_member(session, session.get(Cohort, member["cohort"]),
                           role="facilitator").user
    login(client, admin)
    assert client.get(f"/admin/users?after={HUGE}").status_code == 200
    client.post_form("/logout", {}, token_from="/")
    login(client, staff)
    page = client.get(f"/cohorts/{member['cohort']}/members?after={HUGE}")
    assert page.status_code == 200 and member["user"].email in page.get_data(as_text=True)


@pytest.mark.parametrize("value", [HUGE, str(MAX_ID + 1), "-1", "x"])
def test_marking_one_notification_with_a_bad_id_marks_nothing(client, db, login, member,
                                                              value):
    """Never everything: a form that names one notification cannot fall back to all."""
    login(client, member["user"])
    response = client.post_form("/notifications/read", {"id": value}, token_from="/")
    assert response.status_code == 302
    assert _unread(db, member["user"]) == 1


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", f"/api/v1/modules/{MAX_ID + 1}"),
    ("PATCH", "/api/v1/programs/1099511627776"),
    ("POST", f"/api/v1/cohorts/{HUGE}/members"),
    ("DELETE", f"/api/v1/cohorts/1/modules/{HUGE}/completion"),
    ("DELETE", f"/api/v1/modules/3/prompts/{HUGE}"),
    ("GET", f"/api/v1/cohorts/{MAX_ID + 1}"),
])
def test_an_id_beyond_the_range_in_a_path_is_a_404_whatever_the_method(call, client, member,
                                                                      method, path):
    """Not a 405: that would say the address exists for some other method."""
    response = call(client, method, path, json={}, headers=member["headers"])
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# --- NUL characters ------------------------------------------------------------------------------

def test_a_nul_in_a_json_string_is_a_400(call, client, db, member, table_counts):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        headers = bearer(token_for(session, owner))
    before = table_counts()
    for body in ({"title": "Week\x001"}, {"title": "Fine", "goals": ["a\x00b"]},
                 {"title\x00": "key"}):
        response = call(client, "POST", "/api/v1/programs", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "nul_character"
    assert table_counts() == before


def test_a_nul_in_a_token_request_is_a_400(call, client, member):
    response = call(client, "POST", "/api/v1/tokens",
                    json={"email": member["user"].email + "\x00", "password": "x"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "nul_character"


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_nul_in_the_sign_in_form_is_a_400_page(client, member, field):
    data = {"email": member["user"].email, "password": "correct horse battery"}
    data[field] += "\x00"
    response = client.post_form("/login", data)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/users?q=a%00b", "/invite/abc%00def",
                                  "/calendar/abc%00.ics", "/notifications?before=1%00"])
def test_a_nul_in_the_address_is_a_400(client, login, member, path):
    login(client, member["user"])
    assert client.get(path).status_code == 400


def test_a_nul_in_a_query_string_of_the_api_is_a_400(call, client, member):
    response = call(client, "GET", "/api/v1/notifications?cursor=%00",
                    headers=member["headers"])
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "nul_character"


# --- a redirect target with CR or LF -------------------------------------------------------------

@pytest.mark.parametrize("target", ["/settings%0d%0aSet-Cookie:%20x=1", "/settings%0aX: y",
                                    "/settings%09tab", "/%0d"])
def test_a_next_with_control_characters_goes_home_after_sign_in(client, member, target):
    response = client.post_form(f"/login?next={target}",
                                {"email": member["user"].email,
                                 "password": "correct horse battery"},
                                token_from="/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Set-Cookie: x" not in str(response.headers)


def test_a_plain_next_is_still_followed(client, member):
    response = client.post_form("/login?next=/settings", {
        "email": member["user"].email, "password": "correct horse battery"},
        token_from="/login")
    assert response.headers["Location"] == "/settings"
