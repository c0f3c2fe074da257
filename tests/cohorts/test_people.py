"""The cohort's people: every member sees who is in it (name, role, intro, initials), the
program's owner and facilitators first, then learners by name; intros are set in settings."""

import pytest
from sqlalchemy import select

from app.accounts import services as accounts
from app.accounts.models import User
from app.cohorts import community
from app.cohorts.models import Cohort
from app.db import get_session
from app.errors import Invalid, NotFound
from tests.factories import add_member, create_cohort, create_user
from tests.http import bearer
from tests.worlds import two_cohorts


@pytest.fixture
def world(db):
    """Cohorts A and B with people in every role, a few more named learners in A."""
    with db() as session:
        world = two_cohorts(session)
        for name in ("zoe Young", "Ada Lovelace", "Émile Zola"):
            world.people[name] = add_member(session, world.cohort_a,
                                            create_user(session, name=name)).user
        world.people["learner_a"].name = "Bob Builder"
        world.people["facilitator_a"].name = "Fay Facilitator"
        world.people["owner_a"].name = "Olga Owner"
        world.people["Ada Lovelace"].intro = "Here to learn kinder feedback."
        return world.with_tokens(session)


def test_the_owner_and_facilitators_come_first_then_learners_by_name(app, world):
    with app.app_context():
        _, people = community.list_people(world.people["learner_a"], world.cohort_a.id)
    assert [(p.name, p.role) for p in people] == [
        ("Olga Owner", "owner"), ("Fay Facilitator", "facilitator"),
        ("Ada Lovelace", "learner"), ("Bob Builder", "learner"), ("zoe Young", "learner"),
        ("Émile Zola", "learner")]
    assert people[2].intro == "Here to learn kinder feedback."
    assert [p.initials for p in people[:3]] == ["OO", "FF", "AL"]


def test_an_owner_enrolled_as_a_learner_is_listed_once_as_owner(app, db, world):
    with db() as session:
        add_member(session, session.get(Cohort, world.cohort_a.id),
                   session.get(User, world.people["owner_a"].id))
    with app.app_context():
        _, people = community.list_people(world.people["learner_a"], world.cohort_a.id)
    owners = [p for p in people if p.user_id == world.people["owner_a"].id]
    assert [p.role for p in owners] == ["owner"]


def test_a_former_owner_is_not_listed(app, db, world):
    with db() as session:
        session.get(User, world.people["owner_a"].id).can_own_programs = False
    with app.app_context():
        _, people = community.list_people(world.people["learner_a"], world.cohort_a.id)
    assert world.people["owner_a"].id not in {p.user_id for p in people}


@pytest.mark.parametrize("role", ["learner_b", "facilitator_b", "owner_b", "admin", "outsider"])
def test_people_outside_the_cohort_see_nothing(app, world, role):
    with app.app_context(), pytest.raises(NotFound):
        community.list_people(world.people[role], world.cohort_a.id)


def test_the_api_lists_people_page_by_page_without_e_mails(call, client, world):
    path = f"/api/v1/cohorts/{world.cohort_a.id}/people"
    headers = bearer(world.tokens["learner_a"])
    first = call(client, "GET", path + "?limit=4", headers=headers).get_json()
    rest = call(client, "GET", f"{path}?limit=4&cursor={first['next_cursor']}",
                headers=headers).get_json()
    assert rest["next_cursor"] is None
    names = [p["name"] for p in first["items"] + rest["items"]]
    assert names == ["Olga Owner", "Fay Facilitator", "Ada Lovelace", "Bob Builder",
                     "zoe Young", "Émile Zola"]
    assert first["items"][2] == {"user_id": world.people["Ada Lovelace"].id,
                                 "name": "Ada Lovelace", "role": "learner",
                                 "intro": "Here to learn kinder feedback.", "initials": "AL"}
    assert "@" not in str(first) + str(rest)


#: role -> status of the people page and API.
STATUS = {"learner_a": 200, "facilitator_a": 200, "owner_a": 200, "learner_b": 404,
          "facilitator_b": 404, "owner_b": 404, "admin": 404, "outsider": 404}


@pytest.mark.parametrize("role", sorted(STATUS))
def test_every_people_address_answers_each_role(call, client, login, world, role):
    a = world.cohort_a.id
    api = call(client, "GET", f"/api/v1/cohorts/{a}/people",
               headers=bearer(world.tokens[role]))
    assert api.status_code == STATUS[role]
    login(client, world.people[role])
    page = client.get(f"/cohorts/{a}/people")
    assert page.status_code == STATUS[role]
    text = page.get_data(as_text=True)
    if STATUS[role] == 200:
        assert "Here to learn kinder feedback." in text and "Program owner" in text
        assert text.index("Fay Facilitator") < text.index("Ada Lovelace")
    else:
        assert "Cohort Alpha" not in text and "Ada Lovelace" not in text


def test_the_cohort_page_shows_faces_the_count_and_a_link_to_people(client, login, world):
    login(client, world.people["learner_a"])
    page = client.get(f"/cohorts/{world.cohort_a.id}").get_data(as_text=True)
    assert "4 learners, 1 facilitator" in page
    assert f'href="/cohorts/{world.cohort_a.id}/people"' in page
    assert page.count('class="avatar ') == community.FACES


# --- the intro ------------------------------------------------------------------------------------

def test_the_intro_is_saved_trimmed_and_can_be_emptied(app, db):
    with db() as session:
        user = create_user(session)
    with app.app_context():
        user = get_session().get(User, user.id)
        accounts.update_profile(user, name="Ada", timezone="UTC", intro="  Curious.  ")
        assert get_session().get(User, user.id).intro == "Curious."
        accounts.update_profile(user, name="Ada", timezone="UTC", intro="")
        assert get_session().get(User, user.id).intro == ""


@pytest.mark.parametrize("intro", ["x" * 161, "two\nlines", "a\rb", "nul\x00"])
def test_a_long_or_multi_line_intro_is_refused(app, db, intro):
    with db() as session:
        user = create_user(session, intro="Kept")
    with app.app_context():
        user = get_session().get(User, user.id)
        with pytest.raises(Invalid) as refused:
            accounts.update_profile(user, name="Ada", timezone="UTC", intro=intro)
        assert set(refused.value.fields) == {"intro"}
        get_session().rollback()
        assert get_session().get(User, user.id).intro == "Kept"


def test_the_settings_page_edits_the_intro(app, client, db, login):
    with db() as session:
        user = create_user(session)
    login(client, user)
    saved = client.post_form("/settings", {"profile-name": "Ada", "profile-timezone": "UTC",
                                           "profile-intro": "I facilitate in Leeds.",
                                           "profile-submit": "Save profile"})
    assert saved.status_code == 302
    assert "I facilitate in Leeds." in client.get("/settings").get_data(as_text=True)
    refused = client.post_form("/settings", {"profile-name": "Ada", "profile-timezone": "UTC",
                                             "profile-intro": "y" * 161,
                                             "profile-submit": "Save profile"})
    assert refused.status_code == 422
    assert "160 characters" in refused.get_data(as_text=True)
    with app.app_context():
        assert get_session().scalar(select(User.intro).where(User.id == user.id)) == \
            "I facilitate in Leeds."


# --- cost ----------------------------------------------------------------------------------------

def test_the_people_page_and_api_cost_the_same_for_1_or_10_members(app, db, client, login,
                                                                   query_counter):
    with db() as session:
        viewer = create_user(session)
        cohorts = {}
        for size in (1, 10):
            cohort = create_cohort(session)
            add_member(session, cohort, viewer, role="facilitator")
            for _ in range(size):
                add_member(session, cohort, create_user(session, intro="Hello there"))
            cohorts[size] = cohort.id
    login(client, viewer)
    counts = {}
    for size, cohort_id in cohorts.items():
        pages = {"people page": f"/cohorts/{cohort_id}/people",
                 "people API": f"/api/v1/cohorts/{cohort_id}/people",
                 "cohort page": f"/cohorts/{cohort_id}"}
        for name, path in pages.items():
            client.get(path)
            with query_counter.counting():
                response = client.get(path)
            assert response.status_code == 200
            counts[size, name] = query_counter.count
        listing = client.get(f"/cohorts/{cohort_id}/people").get_data(as_text=True)
        assert listing.count("Hello there") == size
    for name in ("people page", "people API", "cohort page"):
        assert counts[1, name] == counts[10, name], counts
