"""The learner's self-paced path: "new since your last visit", completion and progress,
"this week", and what a learner may see of a module before its release."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule, Membership, ModuleCompletion
from app.cohorts.progress import (
    Progress,
    complete_module,
    get_learning_path,
    list_progress,
    list_this_week,
    record_visit,
    uncomplete_module,
)
from app.db import utcnow
from app.errors import NotAllowed, NotFound
from tests.cohorts.fake_parts import provide_parts
from tests.factories import add_member, create_module, create_program, create_user
from tests.http import bearer, token_for

START = date(2026, 3, 2)  # a Monday; Berlin is on winter time (UTC+1) all month
RELEASES = [datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 9, 8, tzinfo=UTC),
            datetime(2026, 3, 16, 8, tzinfo=UTC)]
WEEK = timedelta(days=7)


@pytest.fixture
def fake_parts():
    """A provider of threads and assignments for the test's modules."""
    with provide_parts() as provider:
        yield provider


@dataclass
class Cohort:
    """A launched cohort and the people around it."""

    id: int
    cohort: object
    modules: list
    owner: object
    learner: object
    facilitator: object
    outsider: object


def launch(app, db, *, offsets=(0, 7, 14), starts_on=START, timezone="Europe/Berlin",
           launched_at=datetime(2026, 2, 20, tzinfo=UTC), bodies=None) -> Cohort:
    """A cohort of a program with modules at these day offsets (09:00 local)."""
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        program = create_program(session, owner=owner)
        for n, offset in enumerate(offsets):
            create_module(session, program, title=f"Week {n + 1}", release_offset_days=offset,
                          body=(bodies or {}).get(n, f"Body of week {n + 1}"))
    with app.app_context():
        cohort = launch_cohort(owner, program.id, name="Spring", starts_on=starts_on,
                               timezone=timezone, anonymity="peers", now=launched_at)
    with db() as session:
        learner = add_member(session, cohort).user
        facilitator = add_member(session, cohort, role="facilitator").user
        outsider = create_user(session)
        modules = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id).order_by(CohortModule.position)).all()
    return Cohort(cohort.id, cohort, list(modules), owner, learner, facilitator, outsider)


@pytest.fixture
def spring(app, db) -> Cohort:
    """Three weekly modules, released 2, 9 and 16 March at 09:00 Berlin (08:00 UTC)."""
    return launch(app, db)


def membership(db, c: Cohort, user) -> Membership:
    """The user's membership row as stored."""
    with db() as session:
        return session.scalar(select(Membership).where(Membership.cohort_id == c.id,
                                                       Membership.user_id == user.id))


# --- new since your last visit -----------------------------------------------------------------

def test_the_schedule_is_the_one_these_tests_assume(spring):
    assert [m.release_at for m in spring.modules] == RELEASES


def test_a_first_visit_marks_nothing_new_even_with_released_modules(app, spring):
    now = RELEASES[1] + timedelta(hours=1)
    with app.app_context():
        record_visit(spring.learner.id, spring.id, now)
        path = get_learning_path(spring.learner, spring.id, now)
    assert path.new_ids == set()


def test_new_markers_follow_the_30_minute_sitting_rule(app, db, spring):
    first = RELEASES[0] - timedelta(days=1)
    back = RELEASES[1] + timedelta(hours=1)
    m1, m2, _ = (m.id for m in spring.modules)

    def visit(now):
        with app.app_context():
            record_visit(spring.learner.id, spring.id, now)
            return get_learning_path(spring.learner, spring.id, now).new_ids

    assert visit(first) == set()
    assert visit(back) == {m1, m2}  # both released since the first visit
    stored = membership(db, spring, spring.learner)
    assert (stored.previous_visit_at, stored.last_visit_at) == (first, back)
    # Reloads within the sitting keep the markers; each one extends the sitting.
    assert visit(back + timedelta(minutes=20)) == {m1, m2}
    assert visit(back + timedelta(minutes=50)) == {m1, m2}  # exactly 30 min after the last
    stored = membership(db, spring, spring.learner)
    assert stored.previous_visit_at == first
    assert stored.last_visit_at == back + timedelta(minutes=50)
    # 30 minutes and a second later a new sitting starts: everything has been seen.
    later = back + timedelta(minutes=80, seconds=1)
    assert visit(later) == set()
    stored = membership(db, spring, spring.learner)
    assert (stored.previous_visit_at, stored.last_visit_at) == (
        back + timedelta(minutes=50), later)


def test_a_module_released_between_sittings_is_new_and_a_future_one_is_not(app, spring):
    with app.app_context():
        record_visit(spring.learner.id, spring.id, RELEASES[0] + timedelta(hours=1))
        now = RELEASES[1] + timedelta(minutes=1)
        record_visit(spring.learner.id, spring.id, now)
        path = get_learning_path(spring.learner, spring.id, now)
    assert path.new_ids == {spring.modules[1].id}


def test_only_members_record_visits(app, db, spring):
    now = RELEASES[0]
    with app.app_context():
        for user in (spring.facilitator, spring.owner, spring.outsider):
            record_visit(user.id, spring.id, now)
    assert membership(db, spring, spring.facilitator).last_visit_at == now
    with db() as session:  # the owner and the outsider have no membership, and got none
        assert session.scalar(select(func.count()).select_from(Membership)
                              .where(Membership.cohort_id == spring.id,
                                     Membership.user_id.in_([spring.owner.id,
                                                             spring.outsider.id]))) == 0


def test_the_cohort_page_records_the_visit_and_shows_new_as_text(app, db, client, login):
    today = utcnow()
    c = launch(app, db, offsets=(0, 30), starts_on=(today - timedelta(days=3)).date(),
               timezone="UTC", launched_at=today - timedelta(days=4))
    with db() as session:
        row = session.scalar(select(Membership).where(Membership.user_id == c.learner.id))
        row.last_visit_at = today - timedelta(days=5)
    login(client, c.learner)
    page = client.get(f"/cohorts/{c.id}").get_data(as_text=True)
    assert page.count("marker-new") == 1
    assert ">New<span class=\"visually-hidden\"> since your last visit</span>" in page
    assert client.get(f"/cohorts/{c.id}").get_data(as_text=True).count("marker-new") == 1
    stored = membership(db, c, c.learner)
    assert stored.previous_visit_at == today - timedelta(days=5)


# --- completion and progress -------------------------------------------------------------------

def completions(db) -> int:
    """How many completion rows exist."""
    with db() as session:
        return session.scalar(select(func.count()).select_from(ModuleCompletion))


def test_complete_and_uncomplete_are_idempotent(app, db, spring):
    now = RELEASES[1] + timedelta(hours=1)
    first = spring.modules[0].id
    with app.app_context():
        assert complete_module(spring.learner, spring.id, first, now) == \
            Progress(1, 3)
        assert complete_module(spring.learner, spring.id, first, now) == \
            Progress(1, 3)
    assert completions(db) == 1
    with app.app_context():
        assert uncomplete_module(spring.learner, spring.id, first, now) == \
            Progress(0, 3)
        assert uncomplete_module(spring.learner, spring.id, first, now) == \
            Progress(0, 3)
    assert completions(db) == 0


def test_unreleased_modules_and_other_peoples_cohorts_are_not_found(app, db, spring):
    now = RELEASES[1] + timedelta(hours=1)
    other = launch(app, db)
    unreleased = spring.modules[2].id
    with app.app_context():
        for action in (complete_module, uncomplete_module):
            with pytest.raises(NotFound):
                action(spring.learner, spring.id, unreleased, now)
            with pytest.raises(NotFound):
                action(spring.outsider, spring.id, spring.modules[0].id, now)
            with pytest.raises(NotFound):  # a module of another cohort through this one
                action(spring.learner, spring.id, other.modules[0].id, now)
            with pytest.raises(NotFound):
                action(other.learner, spring.id, spring.modules[0].id, now)
            for staff in (spring.facilitator, spring.owner):
                with pytest.raises(NotAllowed):
                    action(staff, spring.id, spring.modules[0].id, now)
    assert completions(db) == 0


def test_progress_counts_completed_released_modules_over_all_modules(app, db, spring):
    now = RELEASES[1] + timedelta(hours=1)
    with app.app_context():
        for module in spring.modules[:2]:
            complete_module(spring.learner, spring.id, module.id, now)
        progress = list_progress(spring.learner, [spring.id], now)[spring.id]
        path = get_learning_path(spring.learner, spring.id, now)
    assert progress == path.progress == Progress(2, 3)
    assert progress.label == "2 of 3 modules complete"


def test_home_counts_new_modules_since_the_cohort_was_last_opened(app, spring):
    with app.app_context():
        assert list_progress(spring.learner, [spring.id], RELEASES[2])[spring.id].new \
            == 0  # never opened: the first-visit rule
        record_visit(spring.learner.id, spring.id, RELEASES[0] + timedelta(hours=1))
        progress = list_progress(spring.learner, [spring.id],
                                 RELEASES[2] + timedelta(hours=1))
    assert progress[spring.id].new == 2


def _pick(client, path: str, *, needle: str) -> str:
    """A page that must contain ``needle``."""
    page = client.get(path).get_data(as_text=True)
    assert needle in page, page[:2000]
    return page


def test_the_module_page_button_marks_complete_without_javascript(app, db, client, login):
    today = utcnow()
    c = launch(app, db, offsets=(0, 30), starts_on=(today - timedelta(days=2)).date(),
               timezone="UTC", launched_at=today - timedelta(days=3))
    module_path = f"/cohorts/{c.id}/modules/{c.modules[0].id}"
    action = f"{module_path}/completion"
    login(client, c.learner)
    _pick(client, module_path, needle="Mark complete")
    response = client.post_form(action, {"completed": "yes"}, token_from=module_path)
    # Back to the progress section (it takes focus), not to the top of the page.
    assert response.status_code == 302
    assert response.headers["Location"] == module_path + "#completion"
    page = _pick(client, module_path, needle="Mark not complete")
    assert 'id="completion" tabindex="-1"' in page
    assert "1 of 2 modules complete" in page  # the flash
    # The page offers the next module: not open yet, so when it opens.
    assert f"Next: <strong>{c.modules[1].title}</strong> opens" in page
    cohort_page = client.get(f"/cohorts/{c.id}").get_data(as_text=True)
    assert "1 of 2 modules complete" in cohort_page
    assert '<progress id="progress-' in cohort_page and 'value="1" max="2"' in cohort_page
    assert "aria-label=\"Your progress in Spring\"" in cohort_page
    home = client.get("/").get_data(as_text=True)
    assert "1 of 2 modules complete" in home
    response = client.post_form(action, {"completed": "no"}, token_from=module_path)
    assert response.status_code == 302
    _pick(client, module_path, needle="Mark complete")
    assert completions(db) == 0
    # Without a CSRF token nothing happens.
    assert client.post(action, data={"completed": "yes"}).status_code == 400
    assert completions(db) == 0


def test_staff_see_no_complete_button(app, db, client, login):
    today = utcnow()
    c = launch(app, db, offsets=(0,), starts_on=(today - timedelta(days=2)).date(),
               timezone="UTC", launched_at=today - timedelta(days=3))
    login(client, c.facilitator)
    page = client.get(f"/cohorts/{c.id}/modules/{c.modules[0].id}").get_data(as_text=True)
    assert "Mark complete" not in page
    assert "Your progress" not in client.get(f"/cohorts/{c.id}").get_data(as_text=True)


# --- this week ---------------------------------------------------------------------------------

def test_this_week_includes_both_ends_of_each_window(app, db, fake_parts):
    c = launch(app, db, offsets=(0, 7, 14, 15))
    now = RELEASES[1]  # the second module opens right now
    m1, m2, m3, _ = c.modules
    fake_parts.add(m1, "assignment", "Practice one",
                   dates=(("Submissions due", now + WEEK),
                          ("Reviews due", now + WEEK + timedelta(seconds=1))),
                   due_at=now + WEEK)
    fake_parts.add(m1, "thread", "Past thread", dates=(("Closes", now - timedelta(seconds=1)),))
    fake_parts.add(m2, "thread", "Due now", due_at=now)
    fake_parts.add(m3, "assignment", "Secret future task", dates=(("Submissions due",
                                                                    now + timedelta(days=6)),))
    with app.app_context():
        items = get_learning_path(c.learner, c.id, now).this_week
        staff_items = get_learning_path(c.facilitator, c.id, now).this_week
        later = get_learning_path(
            c.learner, c.id, now + timedelta(seconds=1)).this_week
    assert [(i.label, i.title) for i in items] == [
        ("Opened", "Week 2"),            # right now (the learner's day began at midnight)
        ("Due", "Due now"),              # due right now
        ("Opens", "Week 3"),             # exactly 7 days ahead
        ("Submissions due", "Practice one"),
    ]  # Week 1 opened 7 days ago: past, not part of the coming week
    assert all(i.at.tzinfo is not None for i in items)
    assert ("Submissions due", "Secret future task") in [(i.label, i.title) for i in staff_items]
    assert ("Opened", "Week 2") in [(i.label, i.title) for i in later]  # still today
    assert ("Due", "Due now") not in [(i.label, i.title) for i in later]


def test_this_week_across_cohorts_is_sorted_by_date(app, db, fake_parts):
    a = launch(app, db)
    b = launch(app, db, starts_on=START + timedelta(days=1), timezone="America/New_York")
    with db() as session:
        add_member(session, b.cohort, a.learner)
    now = RELEASES[1] - timedelta(hours=1)
    fake_parts.add(b.modules[0], "assignment", "Task in B",
                   dates=(("Submissions due", now + timedelta(hours=2)),))
    with app.app_context():
        items = list_this_week(a.learner, now)
    assert [i.at for i in items] == sorted(i.at for i in items)
    assert {i.cohort.id for i in items} == {a.id, b.id}
    assert "Task in B" in [i.title for i in items]
    with app.app_context():
        assert {i.cohort.id for i in list_this_week(b.learner, now)} == {b.id}


def test_the_pages_show_this_week_in_both_zones(app, db, client, login, fake_parts):
    today = utcnow()
    c = launch(app, db, offsets=(0, 3), starts_on=(today - timedelta(days=1)).date(),
               timezone="Asia/Tokyo", launched_at=today - timedelta(days=2))
    fake_parts.add(c.modules[0], "assignment", "Write a note",
                   dates=(("Submissions due", today + timedelta(days=2)),))
    login(client, c.learner)  # the learner's zone is UTC
    for path in ("/", f"/cohorts/{c.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "This week" in page
        assert "Write a note" in page and "Submissions due" in page
        assert "cohort time" in page and "JST" in page and "UTC" in page


# --- what a learner sees before release ----------------------------------------------------------

@pytest.fixture
def secretive(app, db, fake_parts):
    """A cohort with one open module and one that opens in eight days, both with parts."""
    today = utcnow()
    c = launch(app, db, offsets=(0, 9), starts_on=(today - timedelta(days=1)).date(),
               timezone="UTC", launched_at=today - timedelta(days=2),
               bodies={0: "Open **body**", 1: "Secret plan text"})
    fake_parts.add(c.modules[0], "thread", "Open thread", body="Talk *here*",
                   dates=(("Respond from", today + timedelta(days=1)),))
    fake_parts.add(c.modules[0], "assignment", "Open task",
                   dates=(("Submissions due", today + timedelta(days=3)),
                          ("Reviews due", today + timedelta(days=6))),
                   due_at=today + timedelta(days=3))
    fake_parts.add(c.modules[1], "thread", "Secret thread", body="Secret thread body")
    fake_parts.add(c.modules[1], "assignment", "Secret task", body="Secret task body",
                   dates=(("Submissions due", today + timedelta(days=10)),))
    return c


SECRETS = ("Secret plan text", "Secret thread", "Secret task")


def test_the_module_page_shows_parts_with_dates_in_both_zones(client, login, secretive):
    login(client, secretive.learner)
    page = client.get(f"/cohorts/{secretive.id}/modules/{secretive.modules[0].id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Open thread" in text and "<em>here</em>" in text and "Open task" in text
    assert "Submissions due" in text and "Reviews due" in text
    assert "Back to Spring" in text
    hidden = client.get(f"/cohorts/{secretive.id}/modules/{secretive.modules[1].id}")
    assert hidden.status_code == 200  # says when it opens: none of its parts
    assert not any(s in hidden.get_data(as_text=True) for s in SECRETS)


def test_before_release_a_learner_gets_no_content_threads_or_assignments(
        call, client, db, login, secretive):
    login(client, secretive.learner)
    for path in ("/", f"/cohorts/{secretive.id}"):
        page = client.get(path).get_data(as_text=True)
        assert not any(s in page for s in SECRETS), path
    with db() as session:
        headers = bearer(token_for(session, secretive.learner))
    items = call(client, "GET", f"/api/v1/cohorts/{secretive.id}/modules",
                 headers=headers).get_json()["items"]
    opened, upcoming = items
    assert upcoming["title"] == "Week 2" and upcoming["released"] is False
    assert (upcoming["body_html"], upcoming["threads"], upcoming["assignments"]) == (
        None, None, None)
    assert upcoming["completed"] is False
    assert [t["title"] for t in opened["threads"]] == ["Open thread"]
    assert [a["title"] for a in opened["assignments"]] == ["Open task"]
    task = opened["assignments"][0]
    assert [d["label"] for d in task["dates"]] == ["Submissions due", "Reviews due"]
    assert task["dates"][0]["at"].endswith("Z") or task["dates"][0]["at"].endswith("+00:00")
    assert "<em>here</em>" in opened["threads"][0]["body_html"]
    assert not any(s in str(items) for s in SECRETS)


def test_staff_get_every_module_with_its_parts_in_the_api(call, client, db, secretive):
    with db() as session:
        headers = bearer(token_for(session, secretive.facilitator))
    items = call(client, "GET", f"/api/v1/cohorts/{secretive.id}/modules",
                 headers=headers).get_json()["items"]
    assert [t["title"] for t in items[1]["threads"]] == ["Secret thread"]
    assert "Secret plan text" in items[1]["body_html"]


def test_the_api_marks_completed_modules(call, client, db, secretive):
    with db() as session:
        headers = bearer(token_for(session, secretive.learner))
    base = f"/api/v1/cohorts/{secretive.id}/modules"
    first = secretive.modules[0].id
    put = call(client, "PUT", f"{base}/{first}/completion", headers=headers)
    assert put.status_code == 200
    assert put.get_json() == {"cohort_id": secretive.id, "module_id": first, "completed": True,
                              "completed_modules": 1, "total_modules": 2}
    assert call(client, "PUT", f"{base}/{first}/completion", headers=headers).get_json()[
        "completed_modules"] == 1
    assert [i["completed"] for i in call(client, "GET", base, headers=headers).get_json()[
        "items"]] == [True, False]
    unreleased = call(client, "PUT", f"{base}/{secretive.modules[1].id}/completion",
                      headers=headers)
    assert unreleased.status_code == 404
    gone = call(client, "DELETE", f"{base}/{first}/completion", headers=headers)
    assert gone.status_code == 200 and gone.get_json()["completed_modules"] == 0
    assert call(client, "DELETE", f"{base}/{first}/completion", headers=headers
                ).status_code == 200
    assert completions(db) == 0


# --- who may mark completion ---------------------------------------------------------------------

#: role → status of PUT / DELETE …/completion and of the page's POST.
COMPLETION_MATRIX = {
    "learner": (200, 302),
    "facilitator": (403, 403),
    "facilitator_other": (404, 404),
    "owner": (403, 403),
    "admin": (404, 404),
    "outsider": (404, 404),
}


@pytest.fixture
def world(app, db):
    """An open module of cohort A, and people in every relation to it."""
    today = utcnow()
    c = launch(app, db, offsets=(0,), starts_on=(today - timedelta(days=1)).date(),
               timezone="UTC", launched_at=today - timedelta(days=2))
    other = launch(app, db, offsets=(0,))
    with db() as session:
        people = {"learner": c.learner, "facilitator": c.facilitator, "owner": c.owner,
                  "facilitator_other": other.facilitator, "outsider": c.outsider,
                  "admin": create_user(session, is_admin=True, can_own_programs=True)}
        tokens = {role: token_for(session, user) for role, user in people.items()}
    return c, people, tokens


@pytest.mark.parametrize("role", sorted(COMPLETION_MATRIX))
def test_completion_access_through_the_api(call, client, db, world, role):
    c, _, tokens = world
    api_status, _ = COMPLETION_MATRIX[role]
    path = f"/api/v1/cohorts/{c.id}/modules/{c.modules[0].id}/completion"
    for method in ("PUT", "DELETE"):
        response = call(client, method, path, headers=bearer(tokens[role]))
        assert response.status_code == api_status, (role, method)
    if api_status != 200:
        assert completions(db) == 0


@pytest.mark.parametrize("role", sorted(COMPLETION_MATRIX))
def test_completion_access_through_the_page(app, db, client, login, world, role):
    c, people, _ = world
    _, page_status = COMPLETION_MATRIX[role]
    browser = app.test_client()
    login(browser, people[role])
    path = f"/cohorts/{c.id}/modules/{c.modules[0].id}/completion"
    response = browser.post_form(path, {"completed": "yes"}, token_from="/")
    assert response.status_code == page_status
    assert completions(db) == (1 if page_status == 302 else 0)


def test_anonymous_callers_cannot_mark_completion(call, client, world):
    c, _, _ = world
    path = f"/cohorts/{c.id}/modules/{c.modules[0].id}/completion"
    for method in ("PUT", "DELETE"):
        response = call(client, method, "/api/v1" + path)
        assert response.status_code == 401
    response = client.post_form(path, {"completed": "yes"}, token_from="/login")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- a fixed number of queries -------------------------------------------------------------------

def _statements(query_counter, request) -> tuple[int, object]:
    """Warm up once, then count the statements of one more request."""
    request()
    with query_counter.counting():
        response = request()
    return query_counter.count, response


def _with_modules(app, db, fake_parts, size: int) -> Cohort:
    """A running cohort with ``size`` modules (half released), each with two parts."""
    today = utcnow()
    c = launch(app, db, offsets=tuple(range(0, 2 * size, 2)),
               starts_on=(today - timedelta(days=size)).date(), timezone="Europe/Berlin",
               launched_at=today - timedelta(days=size + 1))
    for module in c.modules:
        fake_parts.add(module, "thread", f"Thread of {module.title}",
                       dates=(("Closes", today + timedelta(days=2)),))
        fake_parts.add(module, "assignment", f"Task of {module.title}",
                       dates=(("Submissions due", today + timedelta(days=3)),))
    with app.app_context():
        complete_module(c.learner, c.id, c.modules[0].id, today)
    return c


@pytest.mark.parametrize("role", ["learner", "facilitator"])
def test_the_cohort_and_home_pages_cost_the_same_with_1_or_8_modules(
        app, db, client, login, query_counter, fake_parts, role):
    cohorts = {size: _with_modules(app, db, fake_parts, size) for size in (1, 8)}
    counts = {}
    for size, c in cohorts.items():
        browser = app.test_client()
        login(browser, getattr(c, role))
        for path in ("/", f"/cohorts/{c.id}", f"/cohorts/{c.id}/modules/{c.modules[0].id}"):
            counts[size, path.count("/")], response = _statements(
                query_counter, lambda b=browser, p=path: b.get(p))
            assert response.status_code == 200
            assert "Thread of Week 1" in response.get_data(as_text=True), path
    for depth in (1, 2, 4):
        assert counts[1, depth] == counts[8, depth], (role, counts)
    assert fake_parts.calls > 0  # the parts were really asked for


def test_the_home_page_costs_the_same_for_1_or_3_cohorts_with_parts(
        app, db, client, login, query_counter, fake_parts):
    learners = {}
    for count in (1, 3):
        first = _with_modules(app, db, fake_parts, 2)
        with db() as session:
            for _ in range(count - 1):
                extra = _with_modules(app, db, fake_parts, 2)
                add_member(session, extra.cohort, first.learner)
        learners[count] = first.learner
    counts = {}
    for count, learner in learners.items():
        browser = app.test_client()
        login(browser, learner)
        counts[count], response = _statements(query_counter, lambda b=browser: b.get("/"))
        assert response.get_data(as_text=True).count("modules complete") == count
    assert counts[1] == counts[3], counts


def test_the_module_list_api_costs_the_same_with_1_or_8_modules(call, client, db, app,
                                                               query_counter, fake_parts):
    cohorts = {size: _with_modules(app, db, fake_parts, size) for size in (1, 8)}
    counts = {}
    for size, c in cohorts.items():
        with db() as session:
            headers = bearer(token_for(session, c.learner))
        counts[size], response = _statements(query_counter, lambda c=c, h=headers: call(
            client, "GET", f"/api/v1/cohorts/{c.id}/modules", headers=h))
        assert len(response.get_json()["items"]) == size
    assert counts[1] == counts[8], counts


# --- parts know their viewer ---------------------------------------------------------------------

def test_parts_are_asked_for_on_behalf_of_the_viewer(app, db, client, login, call, fake_parts):
    today = utcnow()
    c = launch(app, db, offsets=(0,), starts_on=(today - timedelta(days=1)).date(),
               launched_at=today - timedelta(days=2))
    fake_parts.add(c.modules[0], "thread", "Reflect",
                   dates=(("Closes", today + timedelta(days=2)),))
    module = c.modules[0].id
    with app.app_context():
        assert [p.facts for p in get_learning_path(c.facilitator, c.id, today).parts[module]] \
            == [("Reply to at least 2 peers", "Shown to a facilitator")]
        assert fake_parts.viewers == [(c.facilitator.id, c.id, "facilitator")]
    for user, role in ((c.learner, "learner"), (c.facilitator, "facilitator")):
        browser = app.test_client()
        login(browser, user)
        for path in ("/", f"/cohorts/{c.id}", f"/cohorts/{c.id}/modules/{module}"):
            fake_parts.viewers.clear()
            page = browser.get(path).get_data(as_text=True)
            assert set(fake_parts.viewers) == {(user.id, c.id, role)}, path
            if "/modules/" in path:  # the module page shows each part's facts
                assert f"Shown to a {role}" in page
    with db() as session:
        token = bearer(token_for(session, c.learner))
    modules = call(client, "GET", f"/api/v1/cohorts/{c.id}/modules", headers=token).get_json()
    assert modules["items"][0]["threads"][0]["facts"] == ["Reply to at least 2 peers",
                                                          "Shown to a learner"]
