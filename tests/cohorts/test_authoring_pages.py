"""Authoring without friction: the program overview with example dates, forms on their own
pages, the launch form's date preview, the next step after launching, the release-order
check and Markdown previews."""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from app.cohorts import authoring as authoring_rules
from app.cohorts import authoring_views
from app.cohorts.authoring import get_release_plan, launch_cohort, sort_modules_by_release
from app.cohorts.models import Cohort, CohortModule, Module
from app.cohorts.release_plan import example_start, out_of_order, plan_releases
from app.errors import Invalid, NotFound
from tests.factories import add_member, create_cohort, create_module, create_program, create_user

#: A Friday. Berlin moves to summer time on Sunday 29 March 2026.
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
MONDAY = date(2026, 3, 23)


@pytest.fixture
def program(db):
    """A Berlin owner's program: day 0 at 09:00, day 7 at 09:00, day 3 at 09:00 (out of
    order), and an owner of another program."""
    with db() as session:
        owner = create_user(session, can_own_programs=True, timezone="Europe/Berlin")
        program = create_program(session, owner=owner, title="Coaching")
        for title, offset in (("Kick-off", 0), ("Week two", 7), ("Midweek", 3)):
            create_module(session, program, title=title, release_offset_days=offset)
        stranger = create_user(session, can_own_programs=True)
    return {"owner": owner, "id": program.id, "stranger": stranger}


@pytest.fixture
def fixed_now(monkeypatch):
    """The pages' clock stops at NOW."""
    monkeypatch.setattr(authoring_views, "utcnow", lambda: NOW)


def order_of(db, program_id: int) -> list[tuple[str, int]]:
    """The program's (title, offset) in order, as stored."""
    with db() as session:
        return [(m.title, m.release_offset_days) for m in session.scalars(
            select(Module).where(Module.program_id == program_id).order_by(Module.position))]


def cohort_count(db) -> int:
    """How many cohorts exist."""
    with db() as session:
        return session.scalar(select(func.count(Cohort.id)))


# --- rules -------------------------------------------------------------------------------------

def test_the_example_start_is_the_next_monday_in_the_given_zone():
    late_sunday = datetime(2026, 3, 22, 23, 30, tzinfo=UTC)  # already Monday in Berlin
    assert example_start(late_sunday, "UTC") == MONDAY
    assert example_start(late_sunday, "Europe/Berlin") == date(2026, 3, 30)
    assert example_start(NOW, "Asia/Tokyo") == MONDAY


def test_planned_dates_are_the_dates_a_launch_stores_across_a_clock_change(app, db, program):
    with app.app_context():
        plan = get_release_plan(program["owner"], program["id"], starts_on=MONDAY,
                                timezone="Europe/Berlin", now=NOW)
        cohort = launch_cohort(program["owner"], program["id"], name="Spring",
                               starts_on=MONDAY, timezone="Europe/Berlin", anonymity="off",
                               now=NOW)
    assert [(p.module.title, p.release_at) for p in plan] == [
        ("Kick-off", datetime(2026, 3, 23, 8, tzinfo=UTC)),   # 09:00 CET
        ("Week two", datetime(2026, 3, 30, 7, tzinfo=UTC)),   # 09:00 CEST
        ("Midweek", datetime(2026, 3, 26, 8, tzinfo=UTC)),
    ]
    assert {p.local.strftime("%H:%M") for p in plan} == {"09:00"}
    with db() as session:
        stored = session.scalars(select(CohortModule.release_at).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position)).all()
    assert [at.replace(tzinfo=UTC) if at.tzinfo is None else at for at in stored] == [
        p.release_at for p in plan]


def test_a_time_skipped_by_the_clock_change_is_planned_after_the_gap(app, db):
    with db() as session:
        program = create_program(session)
        create_module(session, program, release_offset_days=6, release_time=time(2, 30))
        [planned] = plan_releases(list(program.modules), MONDAY, "Europe/Berlin")
    assert planned.shifted and planned.local.strftime("%d %H:%M") == "29 03:30"


def test_the_plan_refuses_a_bad_zone_or_date_and_other_peoples_programs(app, program):
    with app.app_context():
        for starts_on, zone, fields in ((MONDAY, "Mars/Olympus", {"timezone"}),
                                        (None, "UTC", {"starts_on"}),
                                        (date(2040, 1, 1), "UTC", {"starts_on"})):
            with pytest.raises(Invalid) as error:
                get_release_plan(program["owner"], program["id"], starts_on=starts_on,
                                 timezone=zone, now=NOW)
            assert set(error.value.fields) == fields
        with pytest.raises(NotFound):
            get_release_plan(program["stranger"], program["id"], starts_on=MONDAY,
                             timezone="UTC", now=NOW)


def test_a_module_released_before_the_one_above_it_is_out_of_order(app, db, program):
    with db() as session:
        modules = list(session.scalars(select(Module).where(
            Module.program_id == program["id"]).order_by(Module.position)))
        problems = out_of_order(modules)
        assert {modules[2].id: modules[1].id} == {k: v.id for k, v in problems.items()}


def test_sorting_puts_modules_in_release_order_and_keeps_ties_in_place(app, db, program):
    with db() as session:
        first = session.scalar(select(Module).where(Module.program_id == program["id"],
                                                    Module.title == "Kick-off"))
        first.release_offset_days = 3  # ties with Midweek, which stays after it
    with app.app_context():
        with pytest.raises(NotFound):
            sort_modules_by_release(program["stranger"], program["id"])
        sort_modules_by_release(program["owner"], program["id"])
    assert order_of(db, program["id"]) == [("Kick-off", 3), ("Midweek", 3), ("Week two", 7)]


# --- the overview ------------------------------------------------------------------------------

def test_the_overview_shows_example_dates_for_next_monday_across_the_clock_change(
        app, db, client, login, program, fixed_now):
    login(client, program["owner"])
    page = client.get(f"/programs/{program['id']}").get_data(as_text=True)
    assert "Monday 23 March 2026" in page and "Europe/Berlin, your time zone" in page
    assert '<time datetime="2026-03-23T08:00:00+00:00">Mon 23 Mar 2026, 09:00 CET</time>' in page
    assert '<time datetime="2026-03-30T07:00:00+00:00">Mon 30 Mar 2026, 09:00 CEST</time>' in page
    assert page.index(">Kick-off</h3>") < page.index(">Week two</h3>") < page.index(
        ">Midweek</h3>")
    assert "Day 7 ·" in page and "<form" not in page.split('id="details"')[1].split(
        "</section>")[0]


def test_add_a_module_is_the_main_action_until_there_are_modules(app, db, client, login):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        empty = create_program(session, owner=owner)
        full = create_program(session, owner=owner)
        create_module(session, full)
    login(client, owner)
    page = client.get(f"/programs/{empty.id}").get_data(as_text=True)
    assert f'<a role="button" href="/programs/{empty.id}/modules/new">Add a module</a>' in page
    page = client.get(f"/programs/{full.id}").get_data(as_text=True)
    assert f'<a role="button" href="/programs/{full.id}/launch">Launch a cohort</a>' in page
    assert (f'<a role="button" class="secondary outline" href="/programs/{full.id}/modules/new">'
            "Add a module</a>") in page


def test_a_module_out_of_order_is_flagged_and_fixed_in_one_click(app, db, client, login,
                                                                 program):
    login(client, program["owner"])
    path = f"/programs/{program['id']}"
    page = client.get(path).get_data(as_text=True)
    assert "Opens before the module above it:</strong> day 3 after day 7" in page
    assert page.count("Fix the order</button>") == 1
    # Without the form's token nothing moves.
    client.post(f"{path}/modules/sort", data={})
    assert [t for t, _ in order_of(db, program["id"])] == ["Kick-off", "Week two", "Midweek"]
    response = client.post_form(f"{path}/modules/sort", {"submit": "Fix the order"},
                                token_from=path)
    assert response.status_code == 302
    assert order_of(db, program["id"]) == [("Kick-off", 0), ("Midweek", 3), ("Week two", 7)]
    page = client.get(path).get_data(as_text=True)
    assert "Opens before the module above it" not in page and "Modules sorted" in page


# --- the launch form's date preview ------------------------------------------------------------

def test_preview_dates_shows_the_schedule_keeps_the_values_and_creates_nothing(
        app, db, client, login, program, fixed_now):
    login(client, program["owner"])
    path = f"/programs/{program['id']}/launch"
    response = client.post_form(path, {"name": "Typed name", "starts_on": "2026-03-23",
                                       "timezone": "Europe/Berlin", "anonymity": "everyone",
                                       "preview": "Preview dates"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Mon 23 Mar 2026, 09:00 CET" in page and "Mon 30 Mar 2026, 09:00 CEST" in page
    assert 'value="Typed name"' in page and 'value="2026-03-23"' in page
    assert '<option selected value="Europe/Berlin">' in page
    assert 'checked id="anonymity-2"' in page
    # A preview needs no name yet; a bad zone is named and nothing is launched either way.
    unnamed = client.post_form(path, {"starts_on": "2026-03-23", "timezone": "Asia/Tokyo",
                                      "anonymity": "off", "preview": "Preview dates"})
    assert unnamed.status_code == 200 and "Mon 23 Mar 2026, 09:00 JST" in unnamed.get_data(
        as_text=True)
    bad = client.post_form(path, {"name": "X", "starts_on": "2026-03-23",
                                  "timezone": "Mars/Olympus", "preview": "Preview dates"})
    assert bad.status_code == 422 and 'id="timezone-error"' in bad.get_data(as_text=True)
    assert cohort_count(db) == 0


def test_the_launch_page_carries_the_dates_address_for_its_script(app, db, client, login,
                                                                  program):
    login(client, program["owner"])
    page = client.get(f"/programs/{program['id']}/launch").get_data(as_text=True)
    assert f'data-release-dates-href="/programs/{program["id"]}/release-dates"' in page
    assert 'js/release_preview.js' in page and 'name="preview"' in page


def test_the_dates_endpoint_answers_with_the_schedule_or_a_clear_422(app, db, client, login,
                                                                     program, fixed_now):
    login(client, program["owner"])
    path = f"/programs/{program['id']}/release-dates"
    response = client.get(path, query_string={"starts_on": "2026-03-23",
                                              "timezone": "Europe/Berlin"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 200
    body = response.get_json()
    assert [r["local"] for r in body["releases"]] == [
        "2026-03-23T09:00:00+01:00", "2026-03-30T09:00:00+02:00", "2026-03-26T09:00:00+01:00"]
    assert "Mon 30 Mar 2026, 09:00 CEST" in body["html"] and "<tr>" in body["html"]
    for query, field in (({"starts_on": "2026-02-30", "timezone": "UTC"}, "starts_on"),
                         ({"starts_on": "soon", "timezone": "UTC"}, "starts_on"),
                         ({"timezone": "UTC"}, "starts_on"),
                         ({"starts_on": "2026-03-23", "timezone": "Mars/Olympus"}, "timezone"),
                         ({"starts_on": "2026-03-23"}, "timezone")):
        bad = client.get(path, query_string=query, headers={"Accept": "application/json"})
        assert bad.status_code == 422, query
        assert field in bad.get_json()["error"]["fields"], query
    assert cohort_count(db) == 0
    other = app.test_client()
    login(other, program["stranger"])
    assert other.get(path, query_string={"starts_on": "2026-03-23",
                                         "timezone": "UTC"}).status_code == 404


# --- after launching ---------------------------------------------------------------------------

def test_after_launching_adding_people_is_the_next_step_until_learners_join(app, db, client,
                                                                            login, program):
    login(client, program["owner"])
    response = client.post_form(f"/programs/{program['id']}/launch", {
        "name": "Spring", "starts_on": "2026-03-23", "timezone": "UTC", "anonymity": "off"})
    assert response.status_code == 302
    with db() as session:
        cohort_id = session.scalar(select(Cohort.id).where(Cohort.name == "Spring"))
    assert response.headers["Location"] == f"/cohorts/{cohort_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Cohort “Spring” launched. Next: add its people." in page
    button = f'<a role="button" href="/cohorts/{cohort_id}/members">Add people</a>'
    assert button in page
    with db() as session:
        add_member(session, session.get(Cohort, cohort_id))
    assert button not in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)


def test_facilitators_see_add_people_but_learners_never_do(app, db, client, login):
    with db() as session:
        cohort = create_cohort(session)
        facilitator = add_member(session, cohort, role="facilitator").user
        learner = add_member(session, cohort).user
        empty = create_cohort(session)
        lonely = add_member(session, empty, role="facilitator").user
    login(client, learner)
    assert "Add people</a>" not in client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    for user, cohort_id, shown in ((facilitator, cohort.id, False), (lonely, empty.id, True)):
        browser = app.test_client()
        login(browser, user)
        page = browser.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
        assert (f'role="button" href="/cohorts/{cohort_id}/members">Add people</a>'
                in page) is shown


# --- Markdown previews -------------------------------------------------------------------------

def test_preview_on_the_module_page_shows_cleaned_html_and_saves_nothing(app, db, client,
                                                                         login, program):
    login(client, program["owner"])
    with db() as session:
        module_id = session.scalar(select(Module.id).where(Module.title == "Week two"))
    path = f"/programs/{program['id']}/modules/{module_id}/edit"
    typed = "Try **this** <script>alert(1)</script>\n\n- one"
    response = client.post_form(path, {"title": "Renamed", "body": typed,
                                       "release_offset_days": "9", "release_time": "10:00",
                                       "preview": "Preview"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    preview = page.split('id="preview"')[1].split("</section>")[0]
    assert "<strong>this</strong>" in preview and "<li>one</li>" in preview
    assert "<script>" not in page.replace('<script src=', '')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the text, kept in the textarea
    assert 'value="Renamed"' in page and 'value="9"' in page
    assert order_of(db, program["id"])[1] == ("Week two", 7)


def test_preview_on_the_new_module_page_creates_nothing(app, db, client, login, program):
    login(client, program["owner"])
    path = f"/programs/{program['id']}/modules/new"
    response = client.post_form(path, {"title": "", "body": "_Draft_",
                                       "release_offset_days": "", "release_time": "",
                                       "preview": "Preview"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<em>Draft</em>" in page and "Not saved yet" in page
    too_long = client.post_form(path, {"title": "T", "body": "x" * 100_001,
                                       "preview": "Preview"})
    assert too_long.status_code == 422 and 'id="body-error"' in too_long.get_data(as_text=True)
    assert len(order_of(db, program["id"])) == 3


# --- cost --------------------------------------------------------------------------------------

def test_the_overview_costs_the_same_for_1_or_10_modules_with_parts(app, db, client, login,
                                                                    query_counter):
    from app.discussions import services as discussions
    from app.peer_review import services as peer_review

    with db() as session:
        owner = create_user(session, can_own_programs=True, timezone="Europe/Berlin")
    sizes = {}
    with app.app_context():
        for size in (1, 10):
            made = authoring_rules.create_program(owner, title=f"P{size}",
                                                  goals=["Listen", "Ask"], now=NOW)
            for week in range(size):
                module = authoring_rules.add_module(owner, made.id, title=f"Week {week}",
                                    release_offset_days=(size - week) * 7)  # all out of order
                discussions.add_prompt(owner, module.id, title="Talk")
                peer_review.add_assignment(
                    owner, module.id, title="Try",
                    rubric=[{"title": "Clear", "description": "",
                             "levels": [{"label": "No", "points": 0},
                                        {"label": "Yes", "points": 1}]}])
            launch_cohort(owner, made.id, name="C", starts_on=MONDAY, timezone="UTC",
                          anonymity="off", now=NOW)
            sizes[size] = made.id
    login(client, owner)
    counts = {}
    for size, program_id in sizes.items():
        client.get(f"/programs/{program_id}")
        with query_counter.counting():
            response = client.get(f"/programs/{program_id}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert page.count("Opens before the module above it") == size - 1
        assert page.count(">Prompt</span>") == page.count(">Assignment</span>") == size
        counts[size] = query_counter.count
    assert counts[1] == counts[10], (counts, query_counter.statements)
