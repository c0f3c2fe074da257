"""What API.md and the OpenAPI document promise is what the API does.

``GET /api/v1/cohorts/{id}`` gives the cohort, its schedule and my role; the module list
pages with ``limit`` and ``cursor`` like every list; a release time is a local time of day,
documented and enforced as one (never a ``format: time``, which requires an offset).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.cohorts.authoring import launch_cohort
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for


@pytest.fixture
def world(app, db):
    """A cohort of a five-module program, with a learner, a facilitator and the owner."""
    today = datetime.now(UTC)
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        for week in range(5):
            create_module(session, program, title=f"Week {week + 1}",
                          release_offset_days=7 * week)
    with app.app_context():
        cohort = launch_cohort(owner, program.id, name="Spring", timezone="Asia/Tokyo",
                               starts_on=(today - timedelta(days=8)).date(),
                               anonymity="off", now=today)
    with db() as session:
        people = {"owner": owner, "learner": add_member(session, cohort).user,
                  "facilitator": add_member(session, cohort, role="facilitator").user}
        headers = {role: bearer(token_for(session, user)) for role, user in people.items()}
    return {"cohort": cohort.id, "program": program.id, "headers": headers}


@pytest.mark.parametrize("role", ["learner", "facilitator", "owner"])
def test_a_cohort_comes_with_its_schedule_and_my_role(call, client, world, role):
    response = call(client, "GET", f"/api/v1/cohorts/{world['cohort']}",
                    headers=world["headers"][role])
    assert response.status_code == 200
    body = response.get_json()
    assert body["my_role"] == role
    schedule = body["schedule"]
    assert [entry["title"] for entry in schedule] == [f"Week {n}" for n in range(1, 6)]
    assert [entry["position"] for entry in schedule] == list(range(5))
    assert {entry["release_time"] for entry in schedule} == {"09:00:00"}
    # 09:00 in Tokyo is midnight UTC, every week.
    assert {entry["release_at"][11:] for entry in schedule} == {"00:00:00Z"}
    listed = call(client, "GET", f"/api/v1/cohorts/{world['cohort']}/modules",
                  headers=world["headers"][role]).get_json()["items"]
    assert [(m["id"], m["release_at"]) for m in listed] == [
        (entry["id"], entry["release_at"]) for entry in schedule]


def test_the_module_list_pages_in_order(call, client, world):
    path = f"/api/v1/cohorts/{world['cohort']}/modules"
    headers = world["headers"]["learner"]
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, "GET", path + query, headers=headers).get_json()
        seen += [item["title"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Week {n}" for n in range(1, 6)]
    assert pages == 3
    whole = call(client, "GET", path + "?limit=5", headers=headers).get_json()
    assert len(whole["items"]) == 5 and whole["next_cursor"] is None
    first = call(client, "GET", path + "?limit=1", headers=headers).get_json()
    assert [i["title"] for i in first["items"]] == ["Week 1"] and first["next_cursor"]


@pytest.mark.parametrize(("query", "status"), [("?limit=0", 422), ("?limit=201", 422),
                                               ("?cursor=nonsense", 400),
                                               ("?limit=two", 422)])
def test_bad_paging_of_the_module_list_is_refused(call, client, world, query, status):
    response = call(client, "GET", f"/api/v1/cohorts/{world['cohort']}/modules{query}",
                    headers=world["headers"]["learner"])
    assert response.status_code == status


# --- release_time is a local time of day --------------------------------------------------------

@pytest.mark.parametrize("release_time", ["09:00+02:00", "09:00Z", "09:00:00-05:00",
                                          "09:00:00.500", "24:00", "9:00", "09", 900, None])
def test_a_release_time_with_an_offset_or_not_a_time_of_day_is_refused(
        call, client, world, table_counts, release_time):
    before = table_counts()
    response = call(client, "POST", f"/api/v1/programs/{world['program']}/modules",
                    json={"title": "Week 6", "release_time": release_time},
                    headers=world["headers"]["owner"])
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"release_time"}
    assert table_counts() == before


@pytest.mark.parametrize(("sent", "served"), [("07:45", "07:45:00"), ("23:59:59", "23:59:59"),
                                              ("00:00", "00:00:00")])
def test_a_local_time_is_served_as_it_was_meant(call, client, world, sent, served):
    response = call(client, "POST", f"/api/v1/programs/{world['program']}/modules",
                    json={"title": "Week 6", "release_time": sent},
                    headers=world["headers"]["owner"])
    assert response.status_code == 201
    assert response.get_json()["release_time"] == served
    module_id = response.get_json()["id"]
    patched = call(client, "PATCH", f"/api/v1/modules/{module_id}",
                   json={"release_time": "06:30"}, headers=world["headers"]["owner"])
    assert patched.get_json()["release_time"] == "06:30:00"


def test_the_document_describes_release_times_as_local_times_of_day(client):
    document = client.get("/api/v1/openapi.json").get_json()

    def release_times(node):
        """Every schema of a release_time property in the document."""
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "release_time":
                    yield value
                yield from release_times(value)
        elif isinstance(node, list):
            for item in node:
                yield from release_times(item)

    found = list(release_times(document["components"]["schemas"]))
    assert len(found) >= 3  # module in, module patch, module out, schedule entry
    text = str(found)
    assert "'format': 'time'" not in text
    assert "without a UTC offset" in text and "pattern" in text


def test_launch_answers_with_the_same_cohort_shape_as_reading_it(call, client, world):
    launched = call(client, "POST", f"/api/v1/programs/{world['program']}/cohorts",
                    json={"name": "Autumn", "starts_on": date.today().isoformat(),
                          "timezone": "UTC", "anonymity": "off"},
                    headers=world["headers"]["owner"])
    assert launched.status_code == 201
    read = call(client, "GET", f"/api/v1/cohorts/{launched.get_json()['id']}",
                headers=world["headers"]["owner"])
    assert read.get_json() == launched.get_json()
