"""Program authoring and launch through the API, and who may reach each authoring address."""

from dataclasses import dataclass
from datetime import date, time

import pytest
from sqlalchemy import select

from app.cohorts import parts
from app.cohorts.models import Cohort, Module, Program
from app.cohorts.parts import ModulePart
from tests.factories import create_cohort, create_module, create_program, create_user
from tests.http import bearer, token_for
from tests.worlds import two_cohorts

ROLES = ("learner_a", "facilitator_a", "facilitator_b", "owner_a", "owner_b", "admin",
         "outsider", "anonymous", "former_owner_a")


@dataclass
class World:
    """Program A (two modules, one cohort) of owner A; program B of owner B; everyone else."""

    program_a: int
    modules_a: list[int]
    people: dict
    tokens: dict


@pytest.fixture
def world(db) -> World:
    """Owner A's program with a running cohort, owner B's program, an admin, an outsider."""
    with db() as session:
        # A site admin manages accounts; without owner rights they author nothing.
        world = two_cohorts(session, admin_owns_programs=False)
        modules_a = [create_module(session, world.program_a, title=t).id
                     for t in ("One", "Two")]
        # Owner A's predecessor: program A is still theirs on record, but a site admin
        # withdrew their program-owner right (owner A took it over as a copy, say).
        world.people["former_owner_a"] = create_user(session, can_own_programs=False)
        world.with_tokens(session)
    return World(program_a=world.program_a.id, modules_a=modules_a, people=world.people,
                 tokens=world.tokens)


@pytest.fixture
def former_world(db, world) -> World:
    """The same world, with program A owned on record by the former owner."""
    with db() as session:
        session.get(Program, world.program_a).owner_id = world.people["former_owner_a"].id
    return world


def api_calls(world: World) -> dict[str, tuple[str, str, dict | None]]:
    """Every authoring call on program A, with a valid body."""
    program, module = world.program_a, world.modules_a[0]
    return {
        "list": ("GET", "/api/v1/programs", None),
        "create": ("POST", "/api/v1/programs", {"title": "New", "summary": "", "goals": []}),
        "read": ("GET", f"/api/v1/programs/{program}", None),
        "update": ("PATCH", f"/api/v1/programs/{program}", {"title": "Changed"}),
        "add_module": ("POST", f"/api/v1/programs/{program}/modules",
                       {"title": "Three", "body": "", "release_offset_days": 14}),
        "update_module": ("PATCH", f"/api/v1/modules/{module}", {"position": 1}),
        "delete_module": ("DELETE", f"/api/v1/modules/{module}", None),
        "launch": ("POST", f"/api/v1/programs/{program}/cohorts",
                   {"name": "Run", "starts_on": "2026-03-02", "timezone": "UTC",
                    "anonymity": "off"}),
    }


#: The owner's status per call; others get 404 (403 for create, 200 for their own list).
OWNER_STATUS = {"list": 200, "create": 201, "read": 200, "update": 200, "add_module": 201,
                "update_module": 200, "delete_module": 204, "launch": 201}


def expected_api_status(role: str, call_name: str) -> int:
    """What ``role`` gets from one authoring call on program A.

    The former owner is asked about their own program A (see ``former_world``): they are
    told the right was withdrawn (403), never shown or allowed to change anything.
    """
    if role == "anonymous":
        return 401
    if role == "owner_a":
        return OWNER_STATUS[call_name]
    if call_name == "list":
        return 200
    if call_name == "create":
        return 201 if role == "owner_b" else 403
    return 403 if role == "former_owner_a" else 404


@pytest.fixture
def world_for(request):
    """The world in which ``role`` is asked: the former owner's own (``former_world``)."""
    def pick(role: str) -> World:
        return request.getfixturevalue("former_world" if role == "former_owner_a" else "world")
    return pick


@pytest.mark.parametrize("role", ROLES)
def test_authoring_api_access_matrix(call, client, world_for, table_counts, role):
    """Each role × each call; only owner A changes program A, and 404 looks like absence."""
    world = world_for(role)
    before = table_counts()
    for name, (method, path, body) in api_calls(world).items():
        headers = {} if role == "anonymous" else bearer(world.tokens[role])
        response = call(client, method, path, headers=headers, json=body)
        assert response.status_code == expected_api_status(role, name), (role, name)
        if response.status_code == 404:
            assert response.get_json()["error"]["code"] == "not_found"
        if response.status_code == 403 and role == "former_owner_a" and name != "create":
            assert response.get_json()["error"]["code"] == "owner_right_withdrawn"
        if name == "list" and response.status_code == 200:
            ids = [p["id"] for p in response.get_json()["items"]]
            assert (world.program_a in ids) == (role == "owner_a")
    if role not in ("owner_a", "owner_b"):
        assert table_counts() == before


def test_cookie_callers_need_the_csrf_header_to_write(call, client, login, world, api_headers):
    login(client, world.people["owner_a"])
    path = f"/api/v1/programs/{world.program_a}"
    refused = call(client, "PATCH", path, json={"title": "No token"})
    assert refused.status_code == 400
    accepted = call(client, "PATCH", path, json={"title": "With token"}, headers=api_headers())
    assert accepted.status_code == 200 and accepted.get_json()["title"] == "With token"


# --- the calls themselves ----------------------------------------------------------------------

@pytest.fixture
def owner_headers(world) -> dict:
    """Owner A's bearer headers."""
    return bearer(world.tokens["owner_a"])


def test_create_a_program_and_list_mine_page_by_page(call, client, world, owner_headers):
    created = call(client, "POST", "/api/v1/programs", headers=owner_headers,
                   json={"title": "  Psychological safety ", "summary": "Speak up.",
                         "goals": ["Admit mistakes", " ", "Ask for help"]})
    assert created.status_code == 201
    body = created.get_json()
    assert body["title"] == "Psychological safety"
    assert [g["text"] for g in body["goals"]] == ["Admit mistakes", "Ask for help"]
    assert body["modules"] == []
    call(client, "POST", "/api/v1/programs", headers=owner_headers, json={"title": "Third"})
    first = call(client, "GET", "/api/v1/programs?limit=2", headers=owner_headers).get_json()
    assert [p["title"] for p in first["items"]] == ["Program A", "Psychological safety"]
    rest = call(client, "GET", f"/api/v1/programs?limit=2&cursor={first['next_cursor']}",
                headers=owner_headers).get_json()
    assert [p["title"] for p in rest["items"]] == ["Third"] and rest["next_cursor"] is None
    theirs = call(client, "GET", "/api/v1/programs", headers=bearer(world.tokens["owner_b"]))
    assert "Program A" not in {p["title"] for p in theirs.get_json()["items"]}


@pytest.mark.parametrize("body, fields", [
    ({"title": "", "goals": ["x" * 201]}, {"title", "goals"}),
    ({"summary": "no title"}, {"title"}),
    ({"title": "T", "goals": "one string"}, {"goals"}),
    ({"title": "T", "owner_id": 1}, {"owner_id"}),
    ({"title": "T", "summary": "x" * 5001}, {"summary"}),
    ({"title": "T", "summary": "x" * 1_900_000}, {"summary"}),
])
def test_bad_programs_get_422_with_fields(call, client, world, owner_headers, body, fields):
    response = call(client, "POST", "/api/v1/programs", headers=owner_headers, json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid"
    assert set(response.get_json()["error"]["fields"]) == fields


def test_patch_a_program_changes_only_what_is_sent(call, client, world, owner_headers):
    path = f"/api/v1/programs/{world.program_a}"
    call(client, "PATCH", path, headers=owner_headers, json={"goals": ["Listen", "Ask"]})
    renamed = call(client, "PATCH", path, headers=owner_headers, json={"title": "Renamed"})
    body = renamed.get_json()
    assert body["title"] == "Renamed" and body["summary"] == "A program."
    assert [g["text"] for g in body["goals"]] == ["Listen", "Ask"]
    bad = call(client, "PATCH", path, headers=owner_headers, json={"title": " "})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"title"}
    long = call(client, "PATCH", path, headers=owner_headers, json={"summary": "y" * 5001})
    assert long.status_code == 422 and set(long.get_json()["error"]["fields"]) == {"summary"}
    assert call(client, "GET", path, headers=owner_headers).get_json()["summary"] == (
        "A program.")


def test_add_edit_move_and_delete_modules(call, client, world, owner_headers):
    program_path = f"/api/v1/programs/{world.program_a}"
    added = call(client, "POST", f"{program_path}/modules", headers=owner_headers,
                 json={"title": "Three", "body": "# Hi", "release_offset_days": 14})
    assert added.status_code == 201
    three = added.get_json()
    assert (three["position"], three["release_time"], three["parts"]) == (2, "09:00:00", [])
    moved = call(client, "PATCH", f"/api/v1/modules/{three['id']}", headers=owner_headers,
                 json={"position": 0, "release_time": "07:45"})
    assert moved.status_code == 200
    assert (moved.get_json()["position"], moved.get_json()["title"],
            moved.get_json()["release_time"]) == (0, "Three", "07:45:00")
    program = call(client, "GET", program_path, headers=owner_headers).get_json()
    assert [(m["position"], m["title"]) for m in program["modules"]] == [
        (0, "Three"), (1, "One"), (2, "Two")]
    gone = call(client, "DELETE", f"/api/v1/modules/{world.modules_a[0]}",
                headers=owner_headers)
    assert gone.status_code == 204
    program = call(client, "GET", program_path, headers=owner_headers).get_json()
    assert [(m["position"], m["title"]) for m in program["modules"]] == [
        (0, "Three"), (1, "Two")]
    again = call(client, "DELETE", f"/api/v1/modules/{world.modules_a[0]}",
                 headers=owner_headers)
    assert again.status_code == 404


@pytest.mark.parametrize("body, fields", [
    ({"title": "X", "release_offset_days": -1}, {"release_offset_days"}),
    ({"title": "X", "release_offset_days": "7"}, {"release_offset_days"}),
    ({"title": "X", "release_time": "9 o'clock"}, {"release_time"}),
    ({"body": "no title"}, {"title"}),
])
def test_bad_modules_get_422_with_fields(call, client, world, owner_headers, body, fields):
    response = call(client, "POST", f"/api/v1/programs/{world.program_a}/modules",
                    headers=owner_headers, json=body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == fields


def test_a_bad_module_patch_changes_nothing(call, client, db, world, owner_headers):
    module = world.modules_a[1]
    response = call(client, "PATCH", f"/api/v1/modules/{module}", headers=owner_headers,
                    json={"title": "Renamed", "position": 5})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"position"}
    with db() as session:
        stored = session.get(Module, module)
        assert (stored.title, stored.position) == ("Two", 1)


def test_launch_returns_the_cohort_and_its_schedule_in_utc(call, client, db, world,
                                                            owner_headers):
    response = call(client, "POST", f"/api/v1/programs/{world.program_a}/cohorts",
                    headers=owner_headers,
                    json={"name": "New York", "starts_on": "2026-03-02",
                          "timezone": "America/New_York", "anonymity": "peers"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["name"], body["my_role"], body["anonymity"]) == ("New York", "owner", "peers")
    assert [(m["title"], m["release_at"]) for m in body["schedule"]] == [
        ("One", "2026-03-02T14:00:00Z"), ("Two", "2026-03-02T14:00:00Z")]
    assert [m["module_id"] for m in body["schedule"]] == world.modules_a
    with db() as session:
        assert session.get(Cohort, body["id"]).program_id == world.program_a


@pytest.mark.parametrize("body, fields", [
    ({"name": "X", "starts_on": "2026-03-02", "timezone": "Nowhere/Land", "anonymity": "off"},
     {"timezone"}),
    ({"name": " ", "starts_on": "2026-03-02", "timezone": "UTC", "anonymity": "off"},
     {"name"}),
    ({"name": "X", "starts_on": "2026-02-30", "timezone": "UTC", "anonymity": "sometimes"},
     {"starts_on", "anonymity"}),
])
def test_bad_launches_get_422_with_fields(call, client, world, owner_headers, body, fields):
    response = call(client, "POST", f"/api/v1/programs/{world.program_a}/cohorts",
                    headers=owner_headers, json=body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == fields


class FakeProvider:
    """A feature that puts one prompt into every program module."""

    def parts_of_modules(self, modules):
        """One prompt per module."""
        return [ModulePart(kind="prompt", id=100 + m.id, module_id=m.id, position=0,
                           title=f"Reflect on {m.title}",
                           body_html="<p>Think <strong>hard</strong></p>",
                           facts=("Reply to at least 2 peers",)) for m in modules]

    def parts_of_cohort_modules(self, viewer, modules):
        """Nothing in cohorts."""
        return []

    def parts_of_many_cohorts(self, groups):
        """Nothing in cohorts."""
        return []


@pytest.mark.parametrize("providers", [[], [FakeProvider()]], ids=["none", "one"])
def test_modules_carry_their_parts_with_or_without_providers(call, client, world, app, login,
                                                              owner_headers, monkeypatch,
                                                              providers):
    monkeypatch.setattr(parts, "_providers", providers)
    program = call(client, "GET", f"/api/v1/programs/{world.program_a}",
                   headers=owner_headers).get_json()
    expected = [[{"kind": "prompt", "id": 100 + m["id"], "title": f"Reflect on {m['title']}",
                  "facts": ["Reply to at least 2 peers"]}] if providers else []
                for m in program["modules"]]
    assert [m["parts"] for m in program["modules"]] == expected
    login(client, world.people["owner_a"])
    page = client.get(f"/programs/{world.program_a}").get_data(as_text=True)
    preview = client.get(f"/programs/{world.program_a}/modules/{world.modules_a[0]}/preview")
    if providers:
        assert "Reflect on One" in page and "Reply to at least 2 peers" in page
        assert "Think <strong>hard</strong>" in preview.get_data(as_text=True)
    else:
        assert "None yet." in page


# --- the pages, role by role -------------------------------------------------------------------

def page_calls(world: World) -> list[tuple[str, str, dict | None, int]]:
    """Every authoring page request on program A, with owner A's expected status."""
    program, module = world.program_a, world.modules_a[0]
    base = f"/programs/{program}"
    return [
        ("GET", "/programs/new", None, 200),
        ("POST", "/programs/new", {"title": "Made on the page"}, 302),
        ("GET", base, None, 200),
        ("POST", f"{base}/modules/sort", {"submit": "Fix the order"}, 302),
        ("GET", f"{base}/edit", None, 200),
        ("POST", f"{base}/edit", {"title": "Edited", "submit": "Save"}, 302),
        ("GET", f"{base}/modules/new", None, 200),
        ("POST", f"{base}/modules/new", {"title": "Draft", "body": "*Hi*",
                                         "preview": "Preview"}, 200),
        ("POST", f"{base}/modules/new", {"title": "Added", "release_offset_days": "3",
                                         "release_time": "09:00", "submit": "Add"}, 302),
        ("GET", f"{base}/modules/{module}/edit", None, 200),
        ("POST", f"{base}/modules/{module}/edit",
         {"title": "Edited", "release_offset_days": "1", "release_time": "09:00"}, 302),
        ("POST", f"{base}/modules/{module}/edit",
         {"title": "Draft", "body": "*Hi*", "preview": "Preview"}, 200),
        ("GET", f"{base}/modules/{module}/preview", None, 200),
        ("POST", f"{base}/modules/{module}/move", {"direction": "down"}, 302),
        ("GET", f"{base}/launch", None, 200),
        ("GET", f"{base}/release-dates?starts_on=2026-03-02&timezone=UTC", None, 200),
        ("POST", f"{base}/launch", {"name": "Previewed", "starts_on": "2026-03-02",
                                    "timezone": "UTC", "anonymity": "off",
                                    "preview": "Preview dates"}, 200),
        ("POST", f"{base}/launch", {"name": "Paged", "starts_on": "2026-03-02",
                                    "timezone": "UTC", "anonymity": "off"}, 302),
        ("GET", f"{base}/modules/{module}/delete", None, 200),
        ("POST", f"{base}/modules/{module}/delete", {"submit": "Delete"}, 302),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_authoring_pages_access_matrix(app, client, login, world_for, table_counts, role):
    """Only owner A opens program A's pages; others get 404 (403 for a new program without
    owner rights, and for the former owner of program A), and anonymous visitors are sent
    to sign in."""
    world = world_for(role)
    browser = app.test_client()
    if role != "anonymous":
        login(browser, world.people[role])
    before = table_counts()
    for method, path, data, owner_status in page_calls(world):
        if method == "GET":
            response = browser.get(path)
        else:
            response = browser.post_form(path, data, token_from="/login" if role == "anonymous"
                                         else "/")
        if role == "anonymous":
            expected = 302
        elif role == "owner_a":
            expected = owner_status
        elif path == "/programs/new":
            expected = owner_status if role == "owner_b" else 403
        else:
            expected = 403 if role == "former_owner_a" else 404
        assert response.status_code == expected, (role, method, path)
        if role == "anonymous":
            assert response.headers["Location"].startswith("/login")
        if expected in (403, 404):
            assert "Program A" not in response.get_data(as_text=True)
        if expected == 403 and role == "former_owner_a" and path != "/programs/new":
            assert "withdrawn" in response.get_data(as_text=True)
    if role not in ("owner_a", "owner_b"):
        assert table_counts() == before


def test_the_owner_sees_every_change_made_through_the_pages(app, db, client, login, world):
    browser = app.test_client()
    login(browser, world.people["owner_a"])
    for method, path, data, _ in page_calls(world):
        if method == "POST":
            browser.post_form(path, data, token_from="/")
    with db() as session:
        program = session.get(Program, world.program_a)
        assert program.title == "Edited"
        assert [m.title for m in program.modules] == ["Two", "Added"]
        assert session.scalar(select(Cohort.name).where(Cohort.name == "Paged")) == "Paged"
        assert session.scalar(select(Program.id).where(Program.title == "Made on the page"))


# --- cost ---------------------------------------------------------------------------------------

def test_the_program_page_and_its_api_cost_a_fixed_number_of_queries(app, db, call, client,
                                                                       login, query_counter):
    counts = {}
    for n in (1, 12):
        with db() as session:
            owner = create_user(session, can_own_programs=True)
            program = create_program(session, owner=owner)
            for i in range(n):
                create_module(session, program, release_offset_days=i, release_time=time(9))
            for i in range(3):
                create_cohort(session, program=program, starts_on=date(2026, 1, 5 + i))
            secret = token_for(session, owner)
        browser = app.test_client()
        login(browser, owner)
        page = f"/programs/{program.id}"
        api = f"/api/v1/programs/{program.id}"
        for label, request in (("page", lambda b=browser, p=page: b.get(p)),
                               ("api", lambda p=api, s=secret: call(client, "GET", p,
                                                                    headers=bearer(s)))):
            request()  # warm up
            with query_counter.counting():
                response = request()
            assert response.status_code == 200
            counts[label, n] = query_counter.count
    assert counts["page", 1] == counts["page", 12], counts
    assert counts["api", 1] == counts["api", 12], counts
