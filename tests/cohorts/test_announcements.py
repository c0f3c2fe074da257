"""Announcements: the staff post, pin and delete them; members read them, are told once,
and see them arrive live on an open cohort page."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.cohorts import community
from app.cohorts.models import Announcement
from app.db import get_session, transaction
from app.errors import Invalid, NotAllowed, NotFound
from app.mail import OutboxEmail
from app.notifications.models import Notification
from tests.factories import add_member, create_cohort, create_user
from tests.http import bearer
from tests.worlds import two_cohorts

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(db):
    """Cohorts A and B with people in every role, and their API tokens."""
    with db() as session:
        return two_cohorts(session).with_tokens(session)


def _post(app, user, cohort_id, title="Office hours moved", body="Now on **Thursday**."):
    """Post through the service, as the pages and the API do."""
    with app.app_context():
        return community.post_announcement(user, cohort_id, title=title, body=body,
                                           now=NOW).id


# --- rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["facilitator_a", "owner_a"])
def test_staff_post_under_their_name_with_the_markdown_cleaned(app, world, role):
    author = world.people[role]
    announcement_id = _post(app, author, world.cohort_a.id, title="  Welcome  ",
                            body="Hello <script>alert(1)</script> **all**")
    with app.app_context():
        stored = get_session().get(Announcement, announcement_id)
        assert (stored.title, stored.author_id) == ("Welcome", author.id)
        assert "<strong>all</strong>" in stored.body_html
        assert "<script" not in stored.body_html


def test_learners_are_refused_and_outsiders_do_not_see_the_cohort(app, world):
    with app.app_context():
        with pytest.raises(NotAllowed):
            community.post_announcement(world.people["learner_a"], world.cohort_a.id,
                                        title="Hi", body="Me too", now=NOW)
        for outsider in ("facilitator_b", "owner_b", "admin", "outsider"):
            with pytest.raises(NotFound):
                community.post_announcement(world.people[outsider], world.cohort_a.id,
                                            title="Hi", body="There", now=NOW)
        assert get_session().scalar(select(Announcement.id)) is None


@pytest.mark.parametrize(("title", "body", "fields"), [
    ("", "Body", {"title"}),
    ("x" * 121, "Body", {"title"}),
    ("Two\nlines", "Body", {"title"}),
    ("Carriage\rreturn", "Body", {"title"}),
    ("Nul\x00byte", "Body", {"title"}),
    ("Title", "   ", {"body"}),
    ("Title", "y" * (community.BODY_MAX + 1), {"body"}),
    ("", "", {"title", "body"}),
])
def test_bad_titles_and_bodies_are_refused_field_by_field(app, world, title, body, fields):
    with app.app_context(), pytest.raises(Invalid) as refused:
        community.post_announcement(world.people["facilitator_a"], world.cohort_a.id,
                                    title=title, body=body, now=NOW)
    assert set(refused.value.fields) == fields


def test_a_title_of_exactly_120_characters_is_kept(app, world):
    announcement_id = _post(app, world.people["facilitator_a"], world.cohort_a.id,
                            title="t" * 120)
    with app.app_context():
        assert len(get_session().get(Announcement, announcement_id).title) == 120


def test_every_member_but_the_author_is_told_once(app, db, world):
    with db() as session:
        extra = [add_member(session, world.cohort_a).user.id for _ in range(3)]
    announcement_id = _post(app, world.people["facilitator_a"], world.cohort_a.id,
                            title="Week 2 is open")
    with app.app_context():
        rows = get_session().execute(
            select(Notification.user_id, Notification.kind, Notification.title,
                   Notification.link)
            .where(Notification.dedupe_key == f"announcement:{announcement_id}")).all()
        told = sorted(row.user_id for row in rows)
        assert told == sorted([world.people["learner_a"].id, *extra])
        assert {row.kind for row in rows} == {"announcement"}
        assert {row.title for row in rows} == {"Announcement in Cohort Alpha: Week 2 is open"}
        assert {row.link for row in rows} == {
            f"/cohorts/{world.cohort_a.id}/announcements#announcement-{announcement_id}"}
        # The default delivery is an e-mail at once, one per person.
        emails = get_session().scalars(select(OutboxEmail.user_id).where(
            OutboxEmail.dedupe_key.startswith(f"announcement:{announcement_id}:"))).all()
        assert sorted(emails) == told
        # Telling them again (a retried signal) writes nothing new.
        from app.notifications.services import notify_announcement_posted

        announcement = get_session().get(Announcement, announcement_id)
        with transaction():
            notify_announcement_posted(announcement, cohort=cohort_of(announcement),
                                       author_name="x", author_is_member=True,
                                       member_count=0, now=NOW)
        assert len(get_session().scalars(select(Notification.id).where(
            Notification.dedupe_key == f"announcement:{announcement_id}")).all()) == len(told)


def cohort_of(announcement):
    """The cohort of an announcement (inside an app context)."""
    from app.cohorts.models import Cohort

    return get_session().get(Cohort, announcement.cohort_id)


def test_the_owner_posting_tells_every_member(app, world):
    announcement_id = _post(app, world.people["owner_a"], world.cohort_a.id)
    with app.app_context():
        told = get_session().scalars(select(Notification.user_id).where(
            Notification.dedupe_key == f"announcement:{announcement_id}")).all()
    assert sorted(told) == sorted([world.people["learner_a"].id,
                                   world.people["facilitator_a"].id])


def test_a_refused_announcement_tells_nobody(app, world):
    with app.app_context():
        with pytest.raises(Invalid):
            community.post_announcement(world.people["facilitator_a"], world.cohort_a.id,
                                        title="Bad\ntitle", body="x", now=NOW)
        assert get_session().scalar(select(Notification.id)) is None


def test_the_cohort_page_features_the_newest_pinned_else_the_newest(app, world):
    staff = world.people["facilitator_a"]
    first = _post(app, staff, world.cohort_a.id, title="First")
    second = _post(app, staff, world.cohort_a.id, title="Second")
    with app.app_context():
        assert community.get_featured_announcement(world.cohort_a.id).id == second
        community.set_announcement_pinned(staff, world.cohort_a.id, first, pinned=True)
        assert community.get_featured_announcement(world.cohort_a.id).id == first
        community.set_announcement_pinned(staff, world.cohort_a.id, first, pinned=False)
        assert community.get_featured_announcement(world.cohort_a.id).id == second
        community.delete_announcement(staff, world.cohort_a.id, second)
        assert community.get_featured_announcement(world.cohort_a.id).id == first
        with pytest.raises(NotAllowed):
            community.delete_announcement(world.people["learner_a"], world.cohort_a.id, first)
        with pytest.raises(NotFound):  # another cohort's staff
            community.set_announcement_pinned(world.people["facilitator_b"],
                                              world.cohort_a.id, first, pinned=True)


# --- live ----------------------------------------------------------------------------------------

def test_an_open_cohort_page_hears_the_announcement_only_after_the_commit(
        app, client, login, socket_client, world):
    login(client, world.people["learner_a"])
    live = socket_client()
    assert live.emit("join", {"room": f"cohort:{world.cohort_a.id}"}, callback=True)["ok"]
    live.get_received()
    with app.app_context(), transaction():
        community.post_announcement(world.people["facilitator_a"], world.cohort_a.id,
                                    title="Live", body="Hello _all_", now=NOW)
        assert live.get_received() == []  # nothing leaves before the commit
    events = {e["name"]: e["args"][0] for e in live.get_received()}
    posted = events["announcement_posted"]
    assert (posted["cohort_id"], posted["title"]) == (world.cohort_a.id, "Live")
    assert posted["author_name"] == world.people["facilitator_a"].name
    assert "<em>all</em>" in posted["body_html"]
    assert events["notification"]["kind"] == "announcement"


def test_a_rolled_back_announcement_sends_no_event(app, client, login, socket_client, world):
    login(client, world.people["learner_a"])
    live = socket_client()
    assert live.emit("join", {"room": f"cohort:{world.cohort_a.id}"}, callback=True)["ok"]
    live.get_received()
    with app.app_context(), pytest.raises(RuntimeError), transaction():
        community.post_announcement(world.people["facilitator_a"], world.cohort_a.id,
                                    title="Never", body="sent", now=NOW)
        raise RuntimeError("the request failed later")
    assert [e["name"] for e in live.get_received()] == []


# --- the API -------------------------------------------------------------------------------------

def test_staff_post_through_the_api_and_members_list_newest_first(call, client, world):
    a = world.cohort_a.id
    path = f"/api/v1/cohorts/{a}/announcements"
    for n in range(3):
        created = call(client, "POST", path, json={"title": f"News {n}", "body": "*Read* me"},
                       headers=bearer(world.tokens["facilitator_a"]))
        assert created.status_code == 201
    body = created.get_json()
    assert body["author"]["name"] == world.people["facilitator_a"].name
    assert body["body_html"] == "<p><em>Read</em> me</p>\n"
    page = call(client, "GET", path + "?limit=2", headers=bearer(world.tokens["learner_a"]))
    assert [item["title"] for item in page.get_json()["items"]] == ["News 2", "News 1"]
    cursor = page.get_json()["next_cursor"]
    rest = call(client, "GET", f"{path}?limit=2&cursor={cursor}",
                headers=bearer(world.tokens["learner_a"])).get_json()
    assert [item["title"] for item in rest["items"]] == ["News 0"]
    assert rest["next_cursor"] is None


def test_the_api_refuses_learners_outsiders_and_bad_input(call, client, world):
    path = f"/api/v1/cohorts/{world.cohort_a.id}/announcements"
    good = {"title": "Hi", "body": "There"}
    learner = call(client, "POST", path, json=good, headers=bearer(world.tokens["learner_a"]))
    assert learner.status_code == 403
    for role in ("facilitator_b", "admin", "outsider"):
        for method, kwargs in (("GET", {}), ("POST", {"json": good})):
            refused = call(client, method, path, headers=bearer(world.tokens[role]), **kwargs)
            assert refused.status_code == 404, (role, method)
    bad = call(client, "POST", path, json={"title": "a\r\nb", "body": ""},
               headers=bearer(world.tokens["facilitator_a"]))
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"title", "body"}
    assert "line" in bad.get_json()["error"]["fields"]["title"]


# --- pages ---------------------------------------------------------------------------------------

def test_staff_post_through_the_form_and_are_redirected_to_the_list(client, login, world):
    a = world.cohort_a.id
    login(client, world.people["facilitator_a"])
    response = client.post_form(f"/cohorts/{a}/announcements/new",
                                {"title": "Kick-off", "body": "See you <script>x</script>"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{a}/announcements")
    page = client.get(f"/cohorts/{a}/announcements").get_data(as_text=True)
    assert "Kick-off" in page and world.people["facilitator_a"].name in page
    assert "<script>x" not in page
    cohort_page = client.get(f"/cohorts/{a}").get_data(as_text=True)
    assert "Kick-off" in cohort_page and "All announcements" in cohort_page


def test_the_form_shows_what_to_fix_and_keeps_the_text(client, login, world):
    login(client, world.people["facilitator_a"])
    response = client.post_form(f"/cohorts/{world.cohort_a.id}/announcements/new",
                                {"title": "", "body": "Keep this text"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give the announcement a title." in page
    assert "Keep this text" in page


def test_learners_read_but_get_no_form(client, login, world):
    a = world.cohort_a.id
    with client.application.app_context():
        community.post_announcement(world.people["owner_a"], a, title="Read me", body="x",
                                    now=NOW)
    login(client, world.people["learner_a"])
    page = client.get(f"/cohorts/{a}/announcements")
    assert page.status_code == 200 and "Read me" in page.get_data(as_text=True)
    assert "Post an announcement" not in page.get_data(as_text=True)
    assert client.get(f"/cohorts/{a}/announcements/new").status_code == 403


#: role -> the status of every staff address of announcements (None: allowed).
REFUSAL = {"learner_a": 403, "facilitator_a": None, "owner_a": None, "facilitator_b": 404,
           "owner_b": 404, "admin": 404, "outsider": 404}


@pytest.mark.parametrize("role", sorted(REFUSAL))
def test_every_announcement_address_answers_each_role(app, call, client, login, world, role):
    a = world.cohort_a.id
    pinned = _post(app, world.people["facilitator_a"], a, title="Pin me")
    doomed = _post(app, world.people["facilitator_a"], a, title="Delete me")
    refused = REFUSAL[role]
    reads = 404 if refused == 404 else 200
    headers = bearer(world.tokens[role])
    path = f"/api/v1/cohorts/{a}/announcements"
    assert call(client, "GET", path, headers=headers).status_code == reads
    assert call(client, "POST", path, json={"title": "T", "body": "B"},
                headers=headers).status_code == (refused or 201)
    login(client, world.people[role])
    token = client.csrf_token("/settings")
    pages = [
        ("GET", f"/cohorts/{a}/announcements", {}, reads),
        ("GET", f"/cohorts/{a}/announcements/new", {}, refused or 200),
        ("POST", f"/cohorts/{a}/announcements/new",
         {"data": {"title": "Page", "body": "B", "csrf_token": token}}, refused or 302),
        ("POST", f"/cohorts/{a}/announcements/{pinned}/pin",
         {"data": {"pinned": "yes", "csrf_token": token}}, refused or 302),
        ("GET", f"/cohorts/{a}/announcements/{doomed}/delete", {}, refused or 200),
        ("POST", f"/cohorts/{a}/announcements/{doomed}/delete", {"data": {"csrf_token": token}},
         refused or 302),
    ]
    for method, path, kwargs, expected in pages:
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == expected, (method, path)
        if expected == 404:
            assert "Cohort Alpha" not in response.get_data(as_text=True)
    with app.app_context():
        left = {row.title: row.pinned for row in get_session().scalars(select(Announcement))}
    if refused:
        assert left == {"Pin me": False, "Delete me": False}
    else:
        assert left == {"Pin me": True, "T": False, "Page": False}


def test_another_cohorts_announcement_is_not_found_through_this_cohort(app, client, login,
                                                                       world):
    theirs = _post(app, world.people["facilitator_b"], world.cohort_b.id)
    login(client, world.people["facilitator_a"])
    a = world.cohort_a.id
    assert client.get(f"/cohorts/{a}/announcements/{theirs}/delete").status_code == 404
    assert client.post_form(f"/cohorts/{a}/announcements/{theirs}/pin", {"pinned": "yes"},
                            token_from="/settings").status_code == 404


# --- cost ----------------------------------------------------------------------------------------

def test_the_list_and_the_cohort_page_cost_the_same_for_1_or_10_announcements(
        app, db, client, login, query_counter):
    with db() as session:
        staff = create_user(session)
        cohorts = {}
        for size in (1, 10):
            cohort = create_cohort(session)
            add_member(session, cohort, staff, role="facilitator")
            for _ in range(size):
                add_member(session, cohort)
            cohorts[size] = cohort.id
    for size, cohort_id in cohorts.items():
        for n in range(size):
            _post(app, create_author(db, cohort_id), cohort_id, title=f"Note {n}")
    login(client, staff)
    counts = {}
    for size, cohort_id in cohorts.items():
        for page in (f"/cohorts/{cohort_id}/announcements", f"/cohorts/{cohort_id}"):
            client.get(page)
            with query_counter.counting():
                response = client.get(page)
            assert response.status_code == 200
            counts[size, page.count("/")] = query_counter.count
        listing = client.get(f"/cohorts/{cohort_id}/announcements").get_data(as_text=True)
        assert listing.count('<article class="announcement') == size
    assert counts[1, 3] == counts[10, 3] and counts[1, 2] == counts[10, 2], counts


def create_author(db, cohort_id: int):
    """A new facilitator of the cohort (each announcement by someone else)."""
    from app.cohorts.models import Cohort

    with db() as session:
        return add_member(session, session.get(Cohort, cohort_id), role="facilitator").user
