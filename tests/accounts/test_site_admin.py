"""The site admin's view of the whole site: the overview, the search and the audit log.

Hidden from everyone but site admins (404, as the user admin page); lists cost a fixed
number of statements; bad input is a form message, never a 500.
"""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.audit import AuditEntry
from app.cohorts import site
from app.cohorts.models import CohortModule
from app.errors import Invalid, NotAllowed
from tests.factories import add_member, create_cohort, create_program, create_user

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ADMIN_PAGES = ("/admin", "/admin/search?q=a", "/admin/audit")


@pytest.fixture
def admin(db):
    """A site admin in Berlin."""
    with db() as session:
        return create_user(session, is_admin=True, email="admin@example.com", name="Admin",
                           timezone="Europe/Berlin")


@pytest.fixture
def as_admin(client, login, admin):
    """The client, signed in as the admin."""
    login(client, admin)
    return client


def _module(session, cohort, position: int, release_at: datetime) -> CohortModule:
    """A cohort module released at ``release_at``."""
    module = CohortModule(cohort_id=cohort.id, position=position, title=f"M{position}",
                          release_at=release_at)
    session.add(module)
    session.flush()
    return module


def _entry(session, action: str, at: datetime, **values) -> AuditEntry:
    """An audit entry at a given time."""
    entry = AuditEntry(action=action, at=at, details={}, **values)
    session.add(entry)
    session.flush()
    return entry


# --- service: the overview ----------------------------------------------------------------------

def test_cohort_status_comes_from_the_start_date_and_the_last_release():
    last = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    # 2 March 23:30 UTC is already 3 March in Berlin: a cohort starting that day has begun.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert site.cohort_status(date(2026, 3, 3), "Europe/Berlin", last, late) == site.RUNNING
    assert site.cohort_status(date(2026, 3, 3), "UTC", last, late) == site.NOT_STARTED
    assert site.cohort_status(date(2026, 3, 1), "UTC", last, NOW) == site.RUNNING
    assert site.cohort_status(date(2026, 3, 1), "UTC", last, last) == site.ALL_RELEASED
    assert site.cohort_status(date(2026, 3, 1), "UTC", None, NOW) == site.RUNNING


def test_the_overview_counts_people_and_cohorts_and_says_where_each_cohort_stands(app, db,
                                                                                   admin):
    with db() as session:
        program = create_program(session, title="Listening")
        other = create_program(session, title="Feedback")
        running = create_cohort(session, program=program, name="Running",
                                starts_on=date(2026, 2, 1), timezone="UTC")
        for _ in range(3):
            add_member(session, running)
        add_member(session, running, role="facilitator")
        _module(session, running, 0, datetime(2026, 2, 1, 9, tzinfo=UTC))
        _module(session, running, 1, datetime(2026, 4, 1, 9, tzinfo=UTC))
        done = create_cohort(session, program=program, name="Done",
                             starts_on=date(2025, 1, 1), timezone="UTC")
        _module(session, done, 0, datetime(2025, 1, 1, 9, tzinfo=UTC))
        later = create_cohort(session, program=program, name="Later",
                              starts_on=date(2026, 9, 1), timezone="UTC")
        ids = (program.id, other.id, running.id, done.id, later.id)
    with app.app_context():
        programs = site.list_programs(admin)
        cohorts = site.list_cohorts(admin, now=NOW)
    assert [(r.program.id, r.cohort_count) for r in programs] == [(ids[1], 0), (ids[0], 3)]
    assert not any(r.can_open for r in programs)
    by_id = {r.cohort.id: r for r in cohorts}
    assert [r.cohort.id for r in cohorts] == [ids[4], ids[3], ids[2]]  # newest first
    assert (by_id[ids[2]].learners, by_id[ids[2]].facilitators) == (3, 1)
    assert by_id[ids[2]].status == site.RUNNING
    assert by_id[ids[2]].last_release_at == datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert by_id[ids[3]].status == site.ALL_RELEASED
    assert (by_id[ids[4]].status, by_id[ids[4]].learners, by_id[ids[4]].module_count) == (
        site.NOT_STARTED, 0, 0)
    assert by_id[ids[2]].owner.id == by_id[ids[2]].program.owner_id


def test_the_overview_pages_newest_first(app, db, admin):
    with db() as session:
        made = [create_cohort(session).id for _ in range(5)]
    with app.app_context():
        first = site.list_cohorts(admin, now=NOW, limit=2)
        second = site.list_cohorts(admin, now=NOW, after_id=first[-1].cohort.id, limit=2)
        programs = site.list_programs(admin, after_id=0, limit=3)
    assert [r.cohort.id for r in first + second] == made[::-1][:4]
    assert len(programs) == 3


def test_only_site_admins_get_the_overview_search_and_log(app, db):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
    with app.app_context():
        for call in (lambda: site.list_programs(owner), lambda: site.list_cohorts(owner, now=NOW),
                     lambda: site.search_site(owner, "a"),
                     lambda: site.list_audit_log(owner, site.AuditFilters(), zone="UTC"),
                     lambda: site.list_audit_actions(owner)):
            with pytest.raises(NotAllowed):
                call()


def test_an_admin_may_open_only_what_they_take_part_in(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True, can_own_programs=True)
        mine = create_program(session, owner=admin)
        own_cohort = create_cohort(session, program=mine)
        member_of = create_cohort(session)
        add_member(session, member_of, admin, role="facilitator")
        stranger = create_cohort(session)
        ids = (own_cohort.id, member_of.id, stranger.id)
    with app.app_context():
        opens = {r.cohort.id: r.can_open for r in site.list_cohorts(admin, now=NOW)}
        programs = {r.program.id: r.can_open for r in site.list_programs(admin)}
    assert opens == {ids[0]: True, ids[1]: True, ids[2]: False}
    assert programs[mine.id] is True and sum(programs.values()) == 1


# --- service: search ----------------------------------------------------------------------------

def test_search_matches_names_emails_titles_and_cohorts_case_insensitively(app, db, admin):
    with db() as session:
        create_user(session, name="Ada Lovelace", email="ada@example.com")
        create_user(session, name="Grace", email="grace.love@example.org")
        program = create_program(session, title="Lovely feedback")
        create_cohort(session, program=program, name="Spring LOVE cohort")
        create_cohort(session, program=program, name="Autumn")
    with app.app_context():
        results = site.search_site(admin, "  LoVe ")
    assert results.term == "LoVe"
    assert sorted(u.name for u in results.users) == ["Ada Lovelace", "Grace"]
    assert results.user_count == 2
    assert [p.title for p, _, _ in results.programs] == ["Lovely feedback"]
    assert [c.name for c in results.cohorts] == ["Spring LOVE cohort"]
    assert results.cohorts[0].program.title == "Lovely feedback"


def test_wildcards_in_a_search_match_themselves(app, db, admin):
    with db() as session:
        create_user(session, name="100% sure", email="sure@example.com")
        create_user(session, name="1000 sure", email="notsure@example.com")
        create_user(session, name="snake_case", email="snake@example.com")
        create_user(session, name="snakeXcase", email="snakex@example.com")
    with app.app_context():
        assert [u.name for u in site.search_site(admin, "0%").users] == ["100% sure"]
        assert [u.name for u in site.search_site(admin, "e_c").users] == ["snake_case"]
        assert site.search_site(admin, "%").user_count == 1


def test_search_shows_twenty_of_each_kind_and_counts_them_all(app, db, admin):
    with db() as session:
        for n in range(23):
            create_user(session, name=f"Bulk person {n:02}")
    with app.app_context():
        results = site.search_site(admin, "bulk")
    assert (len(results.users), results.user_count) == (20, 23)
    assert (results.programs, results.program_count) == ([], 0)


@pytest.mark.parametrize("raw", ["a\x00b", "tab\there", "line\nbreak", "x" * 101, "\x7f"])
def test_bad_searches_are_refused_with_a_reason(app, admin, raw):
    with app.app_context(), pytest.raises(Invalid) as refused:
        site.search_site(admin, raw)
    assert refused.value.code == "invalid_search"
    assert "q" in refused.value.fields


def test_a_search_of_exactly_a_hundred_characters_is_taken(app, admin):
    with app.app_context():
        assert site.search_site(admin, "y" * 100 + "   ").term == "y" * 100


# --- service: the audit log ---------------------------------------------------------------------

@pytest.fixture
def log(db, admin):
    """A few entries by two people over three days, in two cohorts."""
    with db() as session:
        actor = create_user(session, email="actor@example.com", name="Actor")
        cohort = create_cohort(session, name="Logged")
        other = create_cohort(session, name="Other")
        entries = {
            "old": _entry(session, "member.enrolled", datetime(2026, 3, 1, 10, tzinfo=UTC),
                          actor_id=actor.id, cohort_id=cohort.id, target_type="user",
                          target_id=actor.id),
            # 23:30 UTC on 1 March is 00:30 on 2 March in Berlin (the admin's zone).
            "midnight": _entry(session, "post.deleted", datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
                               actor_id=admin.id, cohort_id=other.id),
            "new": _entry(session, "member.enrolled", datetime(2026, 3, 3, 8, tzinfo=UTC),
                          actor_id=None, cohort_id=cohort.id),
        }
        return {"actor": actor, "cohort": cohort.id, "other": other.id,
                **{name: entry.id for name, entry in entries.items()}}


def _log(app, admin, zone="Europe/Berlin", **filters):
    """The ids of the log's first page under these filters."""
    with app.app_context():
        page = site.list_audit_log(admin, site.AuditFilters(**filters), zone=zone)
        return [entry.id for entry, _ in page.entries]


def test_the_log_is_newest_first_and_filters_by_cohort_actor_and_action(app, admin, log):
    assert _log(app, admin) == [log["new"], log["midnight"], log["old"]]
    assert _log(app, admin, cohort_id=log["cohort"]) == [log["new"], log["old"]]
    assert _log(app, admin, actor="ACTOR@example.com") == [log["old"]]
    assert _log(app, admin, actor=str(log["actor"].id)) == [log["old"]]
    assert _log(app, admin, action="post.deleted") == [log["midnight"]]
    with app.app_context():
        assert site.list_audit_actions(admin) == ["member.enrolled", "post.deleted"]


def test_the_log_filters_by_days_in_the_viewers_zone(app, admin, log):
    berlin = dict(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    assert _log(app, admin, **berlin) == [log["midnight"]]
    assert _log(app, admin, zone="UTC", **berlin) == []
    assert _log(app, admin, zone="UTC", date_from=date(2026, 3, 1),
                date_to=date(2026, 3, 1)) == [log["midnight"], log["old"]]
    assert _log(app, admin, date_from=date(2026, 3, 3)) == [log["new"]]


def test_the_log_pages_with_a_cursor(app, admin, log):
    with app.app_context():
        first = site.list_audit_log(admin, site.AuditFilters(), zone="UTC", limit=2)
        second = site.list_audit_log(admin, site.AuditFilters(), zone="UTC", limit=2,
                                     after_id=first.next_after)
    assert [e.id for e, _ in first.entries] == [log["new"], log["midnight"]]
    assert [e.id for e, _ in second.entries] == [log["old"]] and second.next_after is None
    assert first.cohort_names == {log["cohort"]: "Logged", log["other"]: "Other"}


@pytest.mark.parametrize(("filters", "field"), [
    ({"actor": "nobody@example.com"}, "actor"),
    ({"actor": "not an address"}, "actor"),
    ({"actor": "99999999999"}, "actor"),
    ({"action": "made.up"}, "action"),
    ({"cohort_id": 2**40}, "cohort_id"),
    ({"cohort_id": -3}, "cohort_id"),
    ({"date_from": date(2026, 3, 5), "date_to": date(2026, 3, 1)}, "date_to"),
    ({"date_to": date.max}, "date_to"),
])
def test_bad_filters_name_the_field(app, admin, log, filters, field):
    with app.app_context(), pytest.raises(Invalid) as refused:
        site.list_audit_log(admin, site.AuditFilters(**filters), zone="Pacific/Kiritimati")
    assert field in refused.value.fields


def test_a_day_before_the_first_representable_moment_is_refused(app, admin):
    with app.app_context(), pytest.raises(Invalid) as refused:
        site.list_audit_log(admin, site.AuditFilters(date_from=date.min), zone="Asia/Tokyo")
    assert "date_from" in refused.value.fields


# --- HTTP ---------------------------------------------------------------------------------------

def test_non_admins_get_404_and_visitors_are_sent_to_sign_in(app, db, client, login):
    for path in ADMIN_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with db() as session:
        owner = create_user(session, can_own_programs=True)
    login(client, owner)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 404, path
    assert "/admin" not in client.get("/").get_data(as_text=True)


def test_the_home_page_links_the_overview_next_to_manage_users(app, as_admin):
    text = as_admin.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in text and 'href="/admin"' in text


def test_the_overview_page_lists_programs_and_cohorts_without_dead_links(app, db, as_admin):
    with db() as session:
        program = create_program(session, title="Listening well")
        cohort = create_cohort(session, program=program, name="Cohort <Zeta>")
        add_member(session, cohort)
        ids = (program.id, cohort.id)
    response = as_admin.get("/admin")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Listening well" in text and "Cohort &lt;Zeta&gt;" in text
    assert "<caption" in text and '<th scope="col">Learners</th>' in text
    assert f'href="/cohorts/{ids[1]}"' not in text  # the admin cannot open it: no link
    assert f'href="/programs/{ids[0]}"' not in text
    assert f"/admin/audit?cohort_id={ids[1]}" in text
    assert as_admin.get(f"/cohorts/{ids[1]}").status_code == 404  # why there is no link


def test_the_overview_costs_the_same_for_1_or_10_cohorts(app, db, client, login, query_counter):
    with db() as session:
        admin = create_user(session, is_admin=True)
    login(client, admin)

    def statements() -> int:
        client.get("/admin")
        with query_counter.counting():
            response = client.get("/admin")
        assert response.status_code == 200
        return query_counter.count, response.get_data(as_text=True)

    with db() as session:
        program = create_program(session)
        cohort = create_cohort(session, program=program)
        add_member(session, cohort)
        _module(session, cohort, 0, NOW)
    one, text = statements()
    assert len(re.findall(r"/admin/audit\?cohort_id=\d+", text)) == 1
    with db() as session:
        for n in range(9):
            cohort = create_cohort(session, program=create_program(session))
            add_member(session, cohort)
            add_member(session, cohort, role="facilitator")
            _module(session, cohort, 0, NOW + timedelta(days=n))
    ten, text = statements()
    assert len(re.findall(r"/admin/audit\?cohort_id=\d+", text)) == 10
    assert one == ten, query_counter.statements


def test_the_search_page_groups_results_and_refuses_bad_input(app, db, as_admin):
    with db() as session:
        create_user(session, name="Findable Person", email="find@example.com")
        create_program(session, title="Findable program")
    response = as_admin.get("/admin/search?q=+FINDABLE+")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "People: 1 found" in text and "Programs: 1 found" in text
    assert "Cohorts: 0 found" in text and 'value="FINDABLE"' in text
    for bad in ("a%0Ab", "%1B", "x" * 101):
        refused = as_admin.get(f"/admin/search?q={bad}")
        assert refused.status_code == 422, bad
        assert 'role="alert"' in refused.get_data(as_text=True)
    # NUL is refused for the whole site before any page reads it, with its own message.
    nul = as_admin.get("/admin/search?q=a%00b")
    assert nul.status_code == 400 and "NUL" in nul.get_data(as_text=True)
    assert as_admin.get("/admin/search").status_code == 200


def test_the_audit_page_filters_and_explains_bad_filters(app, db, as_admin, log):
    text = as_admin.get("/admin/audit").get_data(as_text=True)
    assert "<caption" in text and '<option value="post.deleted">' in text
    assert "the system" in text and "Actor" in text
    # 23:30 UTC shown in the admin's zone (Berlin): 00:30 the next day.
    assert "02 Mar 2026, 00:30:00 CET" in text
    filtered = as_admin.get(f"/admin/audit?cohort_id={log['cohort']}&action=member.enrolled"
                            "&actor=actor%40example.com")
    assert filtered.status_code == 200
    assert filtered.get_data(as_text=True).count("<code>member.enrolled</code>") == 1
    for query in ("cohort_id=abc", "date_from=2026-13-01", "actor=ghost%40example.com",
                  "action=made.up", "cohort_id=99999999999999999999",
                  "date_from=2026-03-05&date_to=2026-03-01", "date_to=9999-12-31",
                  "actor=%01"):
        response = as_admin.get(f"/admin/audit?{query}")
        assert response.status_code == 422, query
        assert 'class="field-error"' in response.get_data(as_text=True) \
            or 'class="form-errors"' in response.get_data(as_text=True), query


def test_the_audit_page_keeps_filters_across_pages(app, db, as_admin, admin):
    with db() as session:
        for n in range(55):
            _entry(session, "token.issued", NOW + timedelta(minutes=n), actor_id=admin.id)
    text = as_admin.get("/admin/audit?action=token.issued").get_data(as_text=True)
    older = re.search(r'href="(/admin/audit\?[^"]*after=\d+[^"]*)"', text)
    assert older and "action=token.issued" in older.group(1)
    second = as_admin.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count("<code>token.issued</code>") == 5
