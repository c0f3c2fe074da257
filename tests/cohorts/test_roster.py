"""The roster through HTTP: pages, API, who may use them, live sockets and query counts."""

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from app import realtime
from app.accounts.models import User
from app.cohorts.models import Cohort, Membership, Program
from app.db import transaction
from app.mail import OutboxEmail
from tests.factories import add_member, create_cohort, create_user
from tests.http import bearer, token_for
from tests.worlds import two_cohorts

CSV = "email,name,role\n"


@dataclass
class World:
    """Cohort A with staff, learners and two people to remove; cohort B; others."""

    cohort_a: int
    cohort_b: int
    people: dict[str, User]
    tokens: dict[str, str]


@pytest.fixture
def world(db) -> World:
    """Cohort A and B of different owners, an admin and an outsider, with API tokens."""
    with db() as session:
        world = two_cohorts(session)
        world.people.update({
            "target_1": add_member(session, world.cohort_a).user,
            "target_2": add_member(session, world.cohort_a).user,
            # Made owner of cohort A's program on record, with the right withdrawn, by
            # ``as_former_owner`` in the tests that ask for that role.
            "former_owner_a": create_user(session),
        })
        world.with_tokens(session)
        return World(world.cohort_a.id, world.cohort_b.id, world.people, world.tokens)


def as_former_owner(db, world: World) -> None:
    """Hand cohort A's program on record to a person without the program-owner right."""
    with db() as session:
        cohort = session.get(Cohort, world.cohort_a)
        session.get(Program, cohort.program_id).owner_id = world.people["former_owner_a"].id


def member_emails(db, cohort_id: int) -> set[str]:
    """The e-mails of a cohort's members."""
    with db() as session:
        return set(session.scalars(
            select(User.email).join(Membership, Membership.user_id == User.id)
            .where(Membership.cohort_id == cohort_id)))


# --- who may do what ----------------------------------------------------------------------------

#: role -> status of a refused call (None: allowed).
REFUSAL = {"learner_a": 403, "facilitator_a": None, "facilitator_b": 404, "owner_a": None,
           "owner_b": 404, "admin": 404, "outsider": 404, "former_owner_a": 403}


@pytest.mark.parametrize("role", sorted(REFUSAL))
def test_every_roster_address_answers_each_role(call, client, login, db, world, role):
    refused = REFUSAL[role]
    if role == "former_owner_a":
        as_former_owner(db, world)
    a = world.cohort_a
    target_1, target_2 = world.people["target_1"].id, world.people["target_2"].id
    headers = bearer(world.tokens[role])
    api = {
        ("GET", f"/api/v1/cohorts/{a}/members"): ({}, 200),
        ("POST", f"/api/v1/cohorts/{a}/members"):
            ({"json": {"email": "api.new@example.com", "role": "learner"}}, 201),
        ("POST", f"/api/v1/cohorts/{a}/members/import"):
            ({"data": CSV + "csv.new@example.com,,\n", "content_type": "text/csv"}, 200),
        ("DELETE", f"/api/v1/cohorts/{a}/members/{target_1}"): ({}, 204),
    }
    for (method, path), (kwargs, ok) in api.items():
        response = call(client, method, path, headers=headers, **kwargs)
        assert response.status_code == (refused or ok), (method, path, response.get_json())
    login(client, world.people[role])
    token = client.csrf_token("/settings")
    upload = {"import-file": (io.BytesIO((CSV + "page.csv@example.com,,\n").encode()),
                              "people.csv"), "csrf_token": token}
    pages = [
        ("GET", f"/cohorts/{a}/members", {}, 200),
        ("POST", f"/cohorts/{a}/members",
         {"data": {"add-email": "page.new@example.com", "add-role": "learner",
                   "csrf_token": token}}, 302),
        ("POST", f"/cohorts/{a}/members/import", {"data": upload}, 200),
        ("GET", f"/cohorts/{a}/members/{target_2}/remove", {}, 200),
        ("POST", f"/cohorts/{a}/members/{target_2}/remove", {"data": {"csrf_token": token}},
         302),
    ]
    for method, path, kwargs, ok in pages:
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == (refused or ok), (method, path)
        if refused:
            assert "Cohort Alpha" not in response.get_data(as_text=True)
    emails = member_emails(db, a)
    new = {"api.new@example.com", "csv.new@example.com", "page.new@example.com",
           "page.csv@example.com"}
    targets = {world.people["target_1"].email, world.people["target_2"].email}
    if refused:
        assert not new & emails and targets <= emails
    else:
        assert new <= emails and not targets & emails


def test_anonymous_callers_get_401_and_the_sign_in_page(call, client, world):
    a, target = world.cohort_a, world.people["target_1"].id
    for method, path in (("GET", f"/api/v1/cohorts/{a}/members"),
                         ("POST", f"/api/v1/cohorts/{a}/members"),
                         ("POST", f"/api/v1/cohorts/{a}/members/import"),
                         ("DELETE", f"/api/v1/cohorts/{a}/members/{target}")):
        response = call(client, method, path)
        assert response.status_code == 401, path
    for path in (f"/cohorts/{a}/members", f"/cohorts/{a}/members/{target}/remove",
                 "/cohorts/roster-template.csv"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- the API ------------------------------------------------------------------------------------

def test_the_roster_api_lists_members_page_by_page(call, client, db, world):
    headers = bearer(world.tokens["facilitator_a"])
    first = call(client, "GET", f"/api/v1/cohorts/{world.cohort_a}/members?limit=3",
                 headers=headers).get_json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = call(client, "GET", f"/api/v1/cohorts/{world.cohort_a}/members?limit=3&cursor="
                + first["next_cursor"], headers=headers).get_json()
    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    assert [i["email"] for i in items] == [world.people[n].email for n in (
        "learner_a", "facilitator_a", "target_1", "target_2")]
    assert items[1]["role"] == "facilitator" and items[0]["last_active_at"] is None


def test_adding_by_api_invites_unknown_people_and_refuses_members(call, client, db, world):
    headers = bearer(world.tokens["owner_a"])
    path = f"/api/v1/cohorts/{world.cohort_a}/members"
    response = call(client, "POST", path, headers=headers,
                    json={"email": "New.Person@example.com", "role": "facilitator",
                          "name": "New Person"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["email"], body["role"], body["outcome"], body["invited"], body["name"]) == \
        ("new.person@example.com", "facilitator", "invited", True, "New Person")
    again = call(client, "POST", path, headers=headers,
                 json={"email": "new.person@example.com", "role": "learner"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_member"
    bad = call(client, "POST", path, headers=headers, json={"email": "x@y", "role": "boss"})
    assert bad.status_code == 422 and "role" in bad.get_json()["error"]["fields"]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 1


def test_importing_by_api(call, client, db, world):
    headers = bearer(world.tokens["facilitator_a"])
    path = f"/api/v1/cohorts/{world.cohort_a}/members/import"
    learner = world.people["learner_a"].email
    bad = CSV + f"ok@example.com,,\n{learner},,\nnope,,\nboss@example.com,,boss\n"
    refused = call(client, "POST", path, headers=headers, data=bad, content_type="text/csv")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "csv_invalid"
    assert list(error["fields"]) == ["line 4", "line 5"]
    assert "ok@example.com" not in member_emails(db, world.cohort_a)
    partial = call(client, "POST", path + "?only_valid=true", headers=headers, data=bad,
                   content_type="text/csv")
    assert partial.status_code == 200
    assert partial.get_json() == {
        "added": [], "invited": ["ok@example.com"], "already_members": [learner],
        "errors": [{"line": 4, "reason": partial.get_json()["errors"][0]["reason"]},
                   {"line": 5, "reason": partial.get_json()["errors"][1]["reason"]}]}
    upload = call(client, "POST", path, headers=headers, content_type="multipart/form-data",
                  data={"file": (io.BytesIO((CSV + "multi@example.com,,\n").encode()),
                                 "p.csv")})
    assert upload.status_code == 200 and upload.get_json()["invited"] == ["multi@example.com"]
    for kwargs in ({"json": {"csv": "email,name,role"}}, {}):
        missing = call(client, "POST", path, headers=headers, **kwargs)
        assert missing.status_code == 400
        assert missing.get_json()["error"]["code"] == "csv_missing"
    latin = call(client, "POST", path, headers=headers, content_type="text/csv",
                 data=(CSV + "jos\u00e9@example.com,Jos\u00e9,\n").encode("latin-1"))
    assert latin.status_code == 422 and "UTF-8 CSV" in latin.get_json()["error"]["message"]


def test_the_import_is_described_in_the_openapi_document(openapi):
    operation = openapi["paths"]["/api/v1/cohorts/{cohort_id}/members/import"]["post"]
    assert set(operation["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
    assert {"200", "400", "401", "403", "404", "413", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"cohort_id", "only_valid"}


def test_removing_yourself_is_a_conflict(call, client, world):
    facilitator = world.people["facilitator_a"]
    response = call(client, "DELETE",
                    f"/api/v1/cohorts/{world.cohort_a}/members/{facilitator.id}",
                    headers=bearer(world.tokens["facilitator_a"]))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "cannot_remove_self"


# --- the pages ----------------------------------------------------------------------------------

def test_the_roster_page_shows_roles_times_and_forms(client, login, db, world):
    with db() as session:
        session.get(User, world.people["facilitator_a"].id).timezone = "Asia/Tokyo"
    login(client, world.people["facilitator_a"])
    client.get(f"/cohorts/{world.cohort_a}")  # the facilitator is active now
    page = client.get(f"/cohorts/{world.cohort_a}/members").get_data(as_text=True)
    for who in ("learner_a", "facilitator_a", "target_1"):
        assert world.people[who].email in page
    assert page.count(">never<") == 3  # everyone but the facilitator
    assert "JST" in page  # times in the viewer's zone
    assert "Import the valid rows and skip the others" in page
    assert 'href="/cohorts/roster-template.csv"' in page
    assert f'/cohorts/{world.cohort_a}/members/{world.people["learner_a"].id}/remove' in page
    assert f'/members/{world.people["facilitator_a"].id}/remove' not in page  # not yourself
    template = client.get("/cohorts/roster-template.csv")
    assert template.mimetype == "text/csv"
    assert template.get_data(as_text=True).startswith("email,name,role\r\n")


def test_a_page_upload_shows_each_bad_line_and_imports_nothing(client, login, db, world):
    login(client, world.people["owner_a"])
    path = f"/cohorts/{world.cohort_a}/members"
    data = (CSV + "good@example.com,Good,\nbad-address,,\ngood@EXAMPLE.com,,\n").encode()
    response = client.post_form(path + "/import", {
        "import-file": (io.BytesIO(data), "people.csv")}, token_from=path)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert "<th scope=\"row\">3</th>" in page and "<th scope=\"row\">4</th>" in page
    assert "Duplicate of line 2" in page
    assert "good@example.com" not in member_emails(db, world.cohort_a)
    response = client.post_form(path + "/import", {
        "import-file": (io.BytesIO(data), "people.csv"), "import-only_valid": "y"},
        token_from=path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "0 added, 1 invited" in page and "1 skipped" not in page and "2 skipped" in page
    assert "good@example.com" in member_emails(db, world.cohort_a)


def test_a_page_upload_of_the_wrong_encoding_explains_how_to_save_it(client, login, world):
    login(client, world.people["facilitator_a"])
    path = f"/cohorts/{world.cohort_a}/members"
    data = (CSV + "ana@example.com,Ana,\n").encode("utf-16")
    response = client.post_form(path + "/import", {
        "import-file": (io.BytesIO(data), "people.csv")}, token_from=path)
    assert response.status_code == 422
    assert "UTF-8 CSV" in response.get_data(as_text=True)
    empty = client.post_form(path + "/import", {}, token_from=path)
    assert empty.status_code == 422
    assert "Choose a CSV file" in empty.get_data(as_text=True)


def test_adding_on_the_page(client, login, db, world):
    login(client, world.people["facilitator_a"])
    path = f"/cohorts/{world.cohort_a}/members"
    response = client.post_form(path, {"add-email": "ada@example.com", "add-name": "Ada",
                                       "add-role": "facilitator"})
    assert response.status_code == 302
    assert "ada@example.com was invited" in client.get(path).get_data(as_text=True)
    again = client.post_form(path, {"add-email": "ada@example.com", "add-role": "learner"})
    assert again.status_code == 422
    assert "already a member" in again.get_data(as_text=True)
    bad = client.post_form(path, {"add-email": "not-an-address", "add-role": "learner"})
    assert bad.status_code == 422 and "not a valid e-mail" in bad.get_data(as_text=True)


def test_removing_on_the_page_asks_first(client, login, db, world):
    login(client, world.people["facilitator_a"])
    learner = world.people["learner_a"]
    path = f"/cohorts/{world.cohort_a}/members/{learner.id}/remove"
    confirm = client.get(path)
    assert confirm.status_code == 200 and learner.email in confirm.get_data(as_text=True)
    assert learner.email in member_emails(db, world.cohort_a)
    assert client.post(path, data={}).status_code == 400  # no CSRF token
    response = client.post_form(path, {})
    assert response.status_code == 302
    assert learner.email not in member_emails(db, world.cohort_a)
    assert client.get(path).status_code == 404


def test_the_roster_page_is_paginated(client, login, db, world):
    with db() as session:
        cohort = session.get(Cohort, world.cohort_a)
        for _ in range(101):
            add_member(session, cohort, create_user(session, password=None))
    login(client, world.people["owner_a"])
    first = client.get(f"/cohorts/{world.cohort_a}/members").get_data(as_text=True)
    assert first.count('<tr class="member-row">') == 100 and "Next page" in first
    next_link = first.split('href="', first.index("Next page") - 300)
    second_path = [part.split('"')[0] for part in next_link if "page=2" in part][0]
    second = client.get(second_path.replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('<tr class="member-row">') == 5 and "Next page" not in second
    for bad in ("page=99999999999", "page=-1", "page=x", "after=99999999999"):
        assert client.get(f"/cohorts/{world.cohort_a}/members?{bad}").status_code == 200, bad


# --- last active --------------------------------------------------------------------------------

def test_reading_the_cohort_marks_the_member_active(call, client, login, db, world):
    learner = world.people["learner_a"]

    def last_active():
        with db() as session:
            return session.scalar(select(Membership.last_active_at).where(
                Membership.cohort_id == world.cohort_a, Membership.user_id == learner.id))

    call(client, "GET", f"/api/v1/cohorts/{world.cohort_a}/modules",
         headers=bearer(world.tokens["learner_a"]))
    first = last_active()
    assert first is not None
    call(client, "GET", f"/api/v1/cohorts/{world.cohort_a}",
         headers=bearer(world.tokens["learner_a"]))
    login(client, learner)
    client.get(f"/cohorts/{world.cohort_a}")
    assert last_active() == first  # within the hour: not written again


# --- live events stop for a removed member ------------------------------------------------------

def test_a_removed_member_stops_receiving_the_cohorts_events(app, call, client, login, db,
                                                             world, socket_client):
    learner_browser, other_browser = app.test_client(), app.test_client()
    login(learner_browser, world.people["learner_a"])
    login(other_browser, world.people["target_1"])
    learner_socket = socket_client(flask_client=learner_browser)
    other_socket = socket_client(flask_client=other_browser)
    room = f"cohort:{world.cohort_a}"
    for sc in (learner_socket, other_socket):
        assert sc.emit("join", {"room": room}, callback=True) == {"ok": True, "room": room}
    response = call(client, "DELETE",
                    f"/api/v1/cohorts/{world.cohort_a}/members/{world.people['learner_a'].id}",
                    headers=bearer(world.tokens["facilitator_a"]))
    assert response.status_code == 204
    with app.app_context(), transaction():
        realtime.notify("post_created", {"id": 1}, room)
    assert learner_socket.get_received() == []
    assert [e["name"] for e in other_socket.get_received()] == ["post_created"]
    assert learner_socket.is_connected()  # only the cohort's room was left
    assert learner_socket.emit("join", {"room": room}, callback=True) == \
        {"ok": False, "error": "not_found"}
    assert learner_browser.get(f"/cohorts/{world.cohort_a}").status_code == 404


# --- cost ---------------------------------------------------------------------------------------

def _statements(query_counter, request) -> tuple[int, object]:
    """Warm up once, then count the statements of one more request."""
    request()
    with query_counter.counting():
        response = request()
    return query_counter.count, response


def test_the_roster_costs_the_same_for_5_or_50_members(app, call, client, login, db,
                                                       query_counter):
    with db() as session:
        facilitator = create_user(session)
        cohorts = {}
        for size in (5, 50):
            cohort = create_cohort(session)
            add_member(session, cohort, facilitator, role="facilitator")
            for _ in range(size - 1):
                add_member(session, cohort, create_user(session, password=None))
            cohorts[size] = cohort.id
        headers = bearer(token_for(session, facilitator))
    login(client, facilitator)
    pages, apis = {}, {}
    for size, cohort_id in cohorts.items():
        pages[size], page = _statements(
            query_counter, lambda c=cohort_id: client.get(f"/cohorts/{c}/members"))
        assert page.get_data(as_text=True).count('<tr class="member-row">') == size
        apis[size], listing = _statements(query_counter, lambda c=cohort_id: call(
            client, "GET", f"/api/v1/cohorts/{c}/members?limit=200", headers=headers))
        assert len(listing.get_json()["items"]) == size
    assert pages[5] == pages[50], (pages, query_counter.statements)
    assert apis[5] == apis[50], (apis, query_counter.statements)
