"""The staff's Members view and nudges: each member's progress and participation counted as
the features count them, sorting and the inactive filter, a fixed cost, and one nudge per
member and day through the page and the API."""

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.cohorts.members import list_members
from app.cohorts.models import Cohort, CohortModule, Membership
from app.cohorts.progress import complete_module
from app.db import utcnow
from app.discussions.models import Post, Thread
from app.discussions.posting import create_post, delete_post
from app.errors import Conflict, NotAllowed, NotFound
from app.mail import OutboxEmail
from app.notifications.models import Notification
from app.notifications.nudges import nudge_member
from app.peer_review import reviewing, submitting
from tests.factories import add_member, create_cohort, create_user
from tests.http import bearer, token_for
from tests.peer_review.world import live_release, practice


@dataclass
class World:
    """Cohort A in week one: a thread in its respond stage and an open assignment."""

    cohort_id: int
    module_id: int
    thread_id: int
    assignment_id: int
    people: dict
    tokens: dict


def _thread(session, module_id: int, cohort_id: int) -> Thread:
    """A thread on the released module with the default stages (respond after 2 days)."""
    thread = Thread(cohort_id=cohort_id, cohort_module_id=module_id, position=0,
                    title="What changed?", body="Tell us.", body_html="<p>Tell us.</p>")
    session.add(thread)
    session.flush()
    return thread


@pytest.fixture
def world(app, db) -> World:
    """Three days after the release (replies open, submissions open), with this activity:

    - learner_a: a reflection, two replies to peer_1 and one under their own reflection,
      the module completed, work submitted and one of the two required reviews done;
    - peer_1: an anonymous reflection (policy ``peers``: the staff see who wrote it) and
      work submitted;
    - peer_2: a reflection, deleted;
    - everyone else: nothing.
    """
    with db() as session:
        p = practice(session, released_at=live_release(3))
        module_id = p.assignment.cohort_module_id
        thread = _thread(session, module_id, p.world.cohort_a.id)
        p.people["learner_a"].name = "Ada Learner"
        for n, name in enumerate(("Bea", "Cy", "Dee", "Eve"), start=1):
            p.people[f"peer_{n}"].name = f"{name} Peer"
        p.world.with_tokens(session)
        world = World(p.world.cohort_a.id, module_id, thread.id, p.assignment.id,
                      p.people, p.world.tokens)
        scores = p.scores()
    now = utcnow()
    a, one, two = (world.people[k] for k in ("learner_a", "peer_1", "peer_2"))
    with app.app_context():
        own = create_post(a, world.thread_id, body="My reflection", now=now)
        theirs = create_post(one, world.thread_id, body="Mine", anonymous=True, now=now)
        for text in ("Good point", "And another"):
            create_post(a, world.thread_id, body=text, parent_id=theirs.id, now=now)
        create_post(a, world.thread_id, body="Adding to my own", parent_id=own.id, now=now)
        gone = create_post(two, world.thread_id, body="Oops", now=now)
        delete_post(two, gone.id, now=now)
        complete_module(a, world.cohort_id, world.module_id, now)
        submitting.submit_work(one, world.assignment_id, body="Work of peer 1", now=now)
        submitting.submit_work(a, world.assignment_id, body="Work of A", now=now)
        review = reviewing.request_review(a, world.assignment_id, now=now)
        reviewing.save_review(a, review.id, scores=scores, comment="Clear and kind.",
                              submit=True, now=now)
    return world


def _by_name(page) -> dict[str, dict]:
    """A page's rows by member name, as plain numbers."""
    return {row.user.name: {"role": row.membership.role,
                            "modules_completed": row.modules_completed,
                            "reflections": row.reflections, "replies": row.replies,
                            "reviews_owed": row.reviews_owed} for row in page.rows}


def test_counts_follow_what_each_member_did(app, world):
    with app.app_context():
        page = list_members(world.people["facilitator_a"], world.cohort_id, now=utcnow())
    rows = _by_name(page)
    assert page.modules_released == 1  # the second module opens in two weeks
    assert rows["Ada Learner"] == {"role": "learner", "modules_completed": 1,
                                   "reflections": 1, "replies": 2, "reviews_owed": 1}
    assert rows["Bea Peer"] == {"role": "learner", "modules_completed": 0,
                                "reflections": 1, "replies": 0, "reviews_owed": 2}
    # A deleted reflection counts for nothing; the unreleased assignment owes nothing yet.
    assert rows["Cy Peer"] == {"role": "learner", "modules_completed": 0,
                               "reflections": 0, "replies": 0, "reviews_owed": 2}
    facilitator = rows[world.people["facilitator_a"].name]
    assert facilitator["role"] == "facilitator" and facilitator["reviews_owed"] == 0
    assert len(rows) == 6  # learner_a, four peers, facilitator_a; cohort B's people absent


def test_posts_nobody_may_attribute_are_not_counted_for_their_author(app, db, world):
    with db() as session:
        session.get(Cohort, world.cohort_id).anonymity = "everyone"  # made stronger later
    with app.app_context():
        rows = _by_name(list_members(world.people["owner_a"], world.cohort_id, now=utcnow()))
    assert rows["Bea Peer"]["reflections"] == 0  # anonymous: now shown to nobody
    assert rows["Ada Learner"]["reflections"] == 1  # named posts still count


@pytest.mark.parametrize("sort, direction, first", [
    ("reflections", "desc", "Ada Learner"),
    ("replies", "desc", "Ada Learner"),
    ("modules_completed", "desc", "Ada Learner"),
    ("reviews_owed", "asc", None),  # the facilitator owes nothing: first
    ("reviews_owed", "desc", "Bea Peer"),  # 2 owed, ties in name order
    ("name", "asc", "Ada Learner"),
    ("name", "desc", "User"),  # "User N" (the facilitator) sorts after the peers
])
def test_each_column_sorts_in_the_database(app, world, sort, direction, first):
    with app.app_context():
        page = list_members(world.people["facilitator_a"], world.cohort_id, now=utcnow(),
                            sort=sort, direction=direction)
    names = [row.user.name for row in page.rows]
    expected = first or world.people["facilitator_a"].name
    assert names[0].startswith(expected), names


def test_the_inactive_filter_keeps_members_idle_longer_than_7_days_or_never(app, db, world):
    now = utcnow()
    seen = {"learner_a": now - timedelta(days=7),  # exactly 7 days: not inactive yet
            "peer_1": now - timedelta(days=7, seconds=1),
            "peer_2": now - timedelta(hours=1), "facilitator_a": now - timedelta(days=30)}
    with db() as session:
        for role, at in seen.items():
            session.execute(update(Membership).where(
                Membership.cohort_id == world.cohort_id,
                Membership.user_id == world.people[role].id).values(last_active_at=at))
    with app.app_context():
        page = list_members(world.people["owner_a"], world.cohort_id, now=now,
                            inactive_days=7, sort="last_active")
    ids = [row.membership.user_id for row in page.rows]
    never = [world.people[f"peer_{n}"].id for n in (3, 4)]
    assert sorted(ids[:2]) == sorted(never)  # never active: the least recent of all
    assert ids[2:] == [world.people["facilitator_a"].id, world.people["peer_1"].id]


def test_only_the_staff_see_the_members(app, world):
    with app.app_context():
        with pytest.raises(NotAllowed):
            list_members(world.people["learner_a"], world.cohort_id, now=utcnow())
        for outsider in ("learner_b", "facilitator_b", "outsider", "admin"):
            with pytest.raises(NotFound):
                list_members(world.people[outsider], world.cohort_id, now=utcnow())


# --- through HTTP -------------------------------------------------------------------------------

def _rows(page_html: str) -> list[str]:
    """The member names in table order."""
    return [html.unescape(name) for name in
            re.findall(r'<tr class="member-row"><th scope="row">([^<]+)', page_html)]


def test_the_page_shows_the_counts_and_sorts_by_its_links(client, login, world):
    login(client, world.people["facilitator_a"])
    path = f"/cohorts/{world.cohort_id}/members"
    page = client.get(path).get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and _rows(page)[0] == "Ada Learner"
    ada = page[page.index("Ada Learner"):page.index("</tr>", page.index("Ada Learner"))]
    # Never active; modules completed, reflections, replies, reviews owed.
    assert re.findall(r"<td>([^<]*)</td>", ada)[-5:] == ["never", "1 of 1", "1", "2", "1"]
    link = html.unescape(re.search(r'href="([^"]*sort=reviews_owed[^"]*)"', page).group(1))
    assert "dir=asc" in link
    by_owed = client.get(link.replace("dir=asc", "dir=desc")).get_data(as_text=True)
    assert 'aria-sort="descending"' in by_owed and _rows(by_owed)[0] == "Bea Peer"
    # Values the page does not offer fall back to its defaults, never an error.
    for query in ("sort=password_hash", "dir=sideways", "inactive=-3", "inactive=x",
                  "page=0", "sort=name&dir=desc&inactive=99999"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, query
        assert "Ada Learner" in response.get_data(as_text=True)


def test_the_page_filters_inactive_members(client, db, login, world):
    with db() as session:
        session.execute(update(Membership).where(
            Membership.cohort_id == world.cohort_id,
            Membership.user_id == world.people["learner_a"].id).values(last_active_at=utcnow()))
    login(client, world.people["facilitator_a"])
    page = client.get(f"/cohorts/{world.cohort_id}/members?inactive=7").get_data(as_text=True)
    assert "Ada Learner" not in _rows(page) and "Bea Peer" in _rows(page)
    assert 'aria-current="page">Inactive for 7 days' in page


def test_the_api_lists_the_members_with_their_counts(call, client, world):
    headers = bearer(world.tokens["facilitator_a"])
    path = f"/api/v1/cohorts/{world.cohort_id}/members"
    body = call(client, "GET", path, headers=headers).get_json()
    ada = next(m for m in body["items"] if m["name"] == "Ada Learner")
    assert {k: ada[k] for k in ("role", "modules_completed", "modules_released", "reflections",
                                "replies", "reviews_owed")} == {
        "role": "learner", "modules_completed": 1, "modules_released": 1, "reflections": 1,
        "replies": 2, "reviews_owed": 1}
    assert ada["joined_at"] and ada["last_active_at"] is None
    owed = call(client, "GET", f"{path}?sort=reviews_owed&dir=desc&limit=2",
                headers=headers).get_json()
    assert [m["name"] for m in owed["items"]] == ["Bea Peer", "Cy Peer"]
    rest = call(client, "GET", f"{path}?sort=reviews_owed&dir=desc&limit=2&cursor="
                f"{owed['next_cursor']}", headers=headers).get_json()
    assert [m["name"] for m in rest["items"]] == ["Dee Peer", "Eve Peer"]
    idle = call(client, "GET", f"{path}?inactive_days=7", headers=headers).get_json()
    assert len(idle["items"]) == 6  # nobody has been active yet
    for query in ("sort=email", "dir=up", "inactive_days=0", "inactive_days=x"):
        response = call(client, "GET", f"{path}?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["code"] == "invalid"


# --- nudges -------------------------------------------------------------------------------------

def _notices(db, user) -> list[Notification]:
    with db() as session:
        return list(session.scalars(select(Notification).where(
            Notification.user_id == user.id, Notification.kind == "nudge")))


def test_a_nudge_reaches_the_learner_once_a_day_from_the_page(app, client, db, login, world,
                                                              socket_client):
    learner, facilitator = world.people["peer_3"], world.people["facilitator_a"]
    learner_browser = app.test_client()
    login(learner_browser, learner)
    live = socket_client(flask_client=learner_browser)
    live.get_received()
    login(client, facilitator)
    path = f"/cohorts/{world.cohort_id}/members"
    form = {"next": f"{path}?sort=reviews_owed"}
    nudge = f"/cohorts/{world.cohort_id}/members/{learner.id}/nudge"
    first = client.post_form(nudge, form, token_from=path)
    assert first.status_code == 302 and first.headers["Location"] == f"{path}?sort=reviews_owed"
    (notice,) = _notices(db, learner)
    cohort_name = "Cohort Alpha"
    assert notice.title.startswith(f"{facilitator.display_name} from {cohort_name}: ")
    assert notice.link == f"/cohorts/{world.cohort_id}" and notice.cohort_id == world.cohort_id
    events = [e["args"][0] for e in live.get_received() if e["name"] == "notification"]
    assert [e["kind"] for e in events] == ["nudge"]
    with db() as session:  # the default delivery: e-mail as well as the inbox
        assert session.scalar(select(OutboxEmail.to_address).where(
            OutboxEmail.subject == notice.title)) == learner.email
    again = client.post_form(nudge, form, token_from=path, follow_redirects=True)
    assert "Already nudged today" in again.get_data(as_text=True)
    assert len(_notices(db, learner)) == 1
    assert notice.title in learner_browser.get("/notifications").get_data(as_text=True)
    assert _notices(db, world.people["peer_4"]) == []  # the right person, and only them


def test_a_nudge_may_carry_a_message_shown_as_text(app, client, db, login, world):
    learner = world.people["peer_3"]
    login(client, world.people["facilitator_a"])
    path = f"/cohorts/{world.cohort_id}/members"
    nudge = f"/cohorts/{world.cohort_id}/members/{learner.id}/nudge"
    too_long = client.post_form(nudge, {"message": "x" * 501}, token_from=path,
                                follow_redirects=True)
    assert "500 characters" in too_long.get_data(as_text=True)
    assert _notices(db, learner) == []
    client.post_form(nudge, {"message": "<b>Hi</b>\nsee you\tsoon"}, token_from=path)
    (notice,) = _notices(db, learner)
    assert notice.title.endswith(": <b>Hi</b> see you soon")
    learner_browser = app.test_client()
    login(learner_browser, learner)
    inbox = learner_browser.get("/notifications").get_data(as_text=True)
    assert "&lt;b&gt;Hi&lt;/b&gt;" in inbox and "<b>Hi</b>" not in inbox


def test_the_nudge_api_sends_once_a_day_and_only_to_members(call, client, db, world):
    headers = bearer(world.tokens["owner_a"])
    base = f"/api/v1/cohorts/{world.cohort_id}/members"
    learner = world.people["peer_4"]
    sent = call(client, "POST", f"{base}/{learner.id}/nudge", json={}, headers=headers)
    assert sent.status_code == 201
    body = sent.get_json()
    assert body["user_id"] == learner.id and body["notification"]["kind"] == "nudge"
    assert body["notification"]["read_at"] is None
    again = call(client, "POST", f"{base}/{learner.id}/nudge", json={"message": "Hello"},
                 headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_nudged"
    for stranger in ("learner_b", "outsider", "owner_a"):  # not members of cohort A
        response = call(client, "POST", f"{base}/{world.people[stranger].id}/nudge", json={},
                        headers=headers)
        assert response.status_code == 404, stranger
    long = call(client, "POST", f"{base}/{world.people['peer_3'].id}/nudge",
                json={"message": "x" * 501}, headers=headers)
    assert long.status_code == 422
    assert len(_notices(db, learner)) == 1 and _notices(db, world.people["peer_3"]) == []


@pytest.mark.parametrize("role, expected", [
    ("facilitator_a", 201), ("owner_a", 201), ("learner_a", 403), ("learner_b", 404),
    ("facilitator_b", 404), ("owner_b", 404), ("admin", 404), ("outsider", 404)])
def test_every_members_address_answers_each_role(call, client, db, login, world, role,
                                                 expected):
    target = world.people["peer_2"]
    api = call(client, "POST", f"/api/v1/cohorts/{world.cohort_id}/members/{target.id}/nudge",
               json={}, headers=bearer(world.tokens[role]))
    assert api.status_code == expected
    listing = call(client, "GET", f"/api/v1/cohorts/{world.cohort_id}/members?sort=replies",
                   headers=bearer(world.tokens[role]))
    assert listing.status_code == (200 if expected == 201 else expected)
    login(client, world.people[role])
    page = client.get(f"/cohorts/{world.cohort_id}/members?inactive=7")
    assert page.status_code == (200 if expected == 201 else expected)
    path = f"/cohorts/{world.cohort_id}/members/{world.people['peer_1'].id}/nudge"
    form = client.post_form(path, {}, token_from="/")
    assert form.status_code == (302 if expected == 201 else expected)
    told = {n.user_id for person in (target, world.people["peer_1"])
            for n in _notices(db, person)}
    assert told == ({target.id, world.people["peer_1"].id} if expected == 201 else set())


def test_the_next_local_day_allows_another_nudge(app, world):
    facilitator, learner = world.people["facilitator_a"], world.people["peer_1"]
    now = utcnow()
    with app.app_context():
        nudge_member(facilitator, world.cohort_id, learner.id, now=now)
        with pytest.raises(Conflict) as twice:
            nudge_member(facilitator, world.cohort_id, learner.id, now=now)
        assert twice.value.code == "already_nudged"
        with pytest.raises(Conflict):
            nudge_member(facilitator, world.cohort_id, facilitator.id, now=now)
        later = nudge_member(facilitator, world.cohort_id, learner.id,
                             now=now + timedelta(days=1))
        assert later.user_id == learner.id


# --- cost ---------------------------------------------------------------------------------------

def _busy_cohort(session, size: int, facilitator) -> int:
    """A cohort of ``size`` learners, each with a completion, a reflection and a reply."""
    cohort = create_cohort(session)
    add_member(session, cohort, facilitator, role="facilitator")
    module = CohortModule(cohort_id=cohort.id, position=0, title="Week 1", body="",
                          release_at=utcnow() - timedelta(days=3))
    session.add(module)
    session.flush()
    thread = _thread(session, module.id, cohort.id)
    first = None
    for _ in range(size):
        learner = add_member(session, cohort, create_user(session, password=None)).user
        reflection = Post(thread_id=thread.id, cohort_id=cohort.id, author_id=learner.id,
                          kind="reflection", body="R")
        session.add(reflection)
        session.flush()
        if first is not None:
            session.add(Post(thread_id=thread.id, cohort_id=cohort.id, author_id=learner.id,
                             parent_id=first.id, kind="reply", body="Yes"))
        first = first or reflection
    session.flush()
    return cohort.id


def test_the_members_view_costs_the_same_for_1_or_20_members(app, call, client, db, login,
                                                              query_counter):
    with db() as session:
        facilitator = create_user(session)
        cohorts = {size: _busy_cohort(session, size, facilitator) for size in (1, 20)}
        headers = bearer(token_for(session, facilitator))
    login(client, facilitator)
    pages, apis = {}, {}
    for size, cohort_id in cohorts.items():
        for label, counts, request in (
                ("page", pages, lambda c=cohort_id: client.get(
                    f"/cohorts/{c}/members?sort=replies&dir=desc&inactive=7")),
                ("api", apis, lambda c=cohort_id: call(
                    client, "GET", f"/api/v1/cohorts/{c}/members?sort=reflections",
                    headers=headers))):
            request()
            with query_counter.counting():
                response = request()
            assert response.status_code == 200, label
            counts[size] = query_counter.count
        assert len(response.get_json()["items"]) == size + 1
    assert pages[1] == pages[20], (pages, query_counter.statements)
    assert apis[1] == apis[20], (apis, query_counter.statements)
