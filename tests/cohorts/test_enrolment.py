"""Enrolment rules: adding people, CSV imports checked whole, removal, last-active times."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.audit import AuditEntry
from app.cohorts import roster as roster_rules
from app.cohorts.access import get_cohort_for
from app.cohorts.models import Cohort, Membership
from app.cohorts.progress import touch_member_activity
from app.cohorts.roster import get_member_for_removal, import_members, list_roster, remove_member
from app.cohorts.roster_csv import ImportRejected
from app.db import Model
from app.errors import Conflict, Invalid, NotAllowed, NotFound
from app.mail import OutboxEmail
from tests.factories import add_member, create_user
from tests.worlds import two_cohorts

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
HEADER = "email,name,role\n"


@dataclass
class World:
    """Cohort A (with a learner and a facilitator), cohort B of another owner, and others."""

    cohort_a: int
    cohort_b: int
    people: dict[str, User]


@pytest.fixture
def world(db) -> World:
    """Cohort A and B, each with its program owner, a learner and a facilitator; an admin."""
    with db() as session:
        world = two_cohorts(session)
        world.people["known"] = create_user(session, email="known@example.com",
                                            name="Known Person")
        return World(world.cohort_a.id, world.cohort_b.id, world.people)


def row_counts(db) -> dict[str, int]:
    """The number of rows in every table."""
    with db() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Model.metadata.sorted_tables}


def members(db, cohort_id: int) -> dict[str, str]:
    """``{email: role}`` of a cohort's members."""
    with db() as session:
        return dict(session.execute(
            select(User.email, Membership.role).join(Membership.user)
            .where(Membership.cohort_id == cohort_id)).all())


def do_import(app, world, text: str | bytes, *, only_valid=False, who="facilitator_a"):
    """Run an import of ``text`` into cohort A as ``who``."""
    data = text.encode() if isinstance(text, str) else text
    with app.app_context():
        return import_members(world.people[who], world.cohort_a, data,
                              only_valid=only_valid, now=NOW)


def rejected(app, world, text, **kwargs) -> list[tuple[int | None, str]]:
    """Import ``text``, expect a refusal, and return its (line, reason) pairs."""
    with pytest.raises(ImportRejected) as caught:
        do_import(app, world, text, **kwargs)
    assert caught.value.code == "csv_invalid"
    assert caught.value.report.imported is False
    return [(e.line, e.reason) for e in caught.value.report.errors]


# --- a good import --------------------------------------------------------------------------------

def test_existing_people_are_added_and_unknown_ones_invited(app, db, world):
    report = do_import(app, world, HEADER + "Known@Example.com,Another Name,facilitator\n"
                                            "new.person@example.com,New Person,learner\n"
                                            "quiet@example.com,,\n")
    assert report.imported
    assert report.added == ["known@example.com"]
    assert report.invited == ["new.person@example.com", "quiet@example.com"]
    assert report.already_members == [] and report.errors == []
    roster = members(db, world.cohort_a)
    assert roster["known@example.com"] == "facilitator"
    assert roster["new.person@example.com"] == "learner"
    assert roster["quiet@example.com"] == "learner"  # an empty role means learner
    with db() as session:
        assert session.get(User, world.people["known"].id).name == "Known Person"
        new = session.scalar(select(User).where(User.email == "new.person@example.com"))
        assert new.name == "New Person" and not new.has_password
        mails = session.scalars(select(OutboxEmail)).all()
        assert sorted(m.to_address for m in mails) == ["new.person@example.com",
                                                       "quiet@example.com"]
        assert all("Alpha" in m.body_text and "/invite/" in m.body_text for m in mails)
        actions = session.scalars(select(AuditEntry.action)
                                  .where(AuditEntry.cohort_id == world.cohort_a)).all()
        assert actions.count("member.enrolled") == 3 and "members.imported" in actions


def test_existing_members_keep_their_membership_and_role(app, db, world):
    learner = world.people["learner_a"].email
    report = do_import(app, world, HEADER + f"{learner},,facilitator\nnew@example.com,,\n")
    assert report.already_members == [learner]
    assert members(db, world.cohort_a)[learner] == "learner"


def test_the_header_ignores_case_and_spaces_and_a_bom_is_accepted(app, db, world):
    data = "\ufeff Email , NAME ,Role \r\nada@example.com,\"Lovelace, Ada\",Learner\r\n"
    report = do_import(app, world, data.encode("utf-8"))
    assert report.invited == ["ada@example.com"]
    with db() as session:
        assert session.scalar(select(User.name).where(User.email == "ada@example.com")) == \
            "Lovelace, Ada"


def test_blank_lines_and_empty_trailing_cells_are_ignored(app, db, world):
    report = do_import(app, world, HEADER + "\na@example.com,A,learner,,\n\n,,\n")
    assert report.invited == ["a@example.com"]


def test_invited_people_without_a_password_are_invited_again(app, db, world):
    with db() as session:
        create_user(session, email="pending@example.com", password=None, name="")
    report = do_import(app, world, HEADER + "pending@example.com,Pat,learner\n")
    assert report.invited == ["pending@example.com"]
    with db() as session:
        assert session.scalar(select(User.name).where(User.email == "pending@example.com")) \
            == "Pat"


# --- every problem is reported, nothing is half-imported ------------------------------------------

BAD_FILE = (HEADER
            + "good@example.com,Good,learner\n"          # 2
            + ",No Mail,learner\n"                       # 3 missing e-mail
            + "not-an-email,Bad,learner\n"               # 4 invalid
            + "role@example.com,Bad,admin\n"             # 5 unknown role
            + "GOOD@example.com,Again,learner\n"         # 6 duplicate of 2
            + "many@example.com,A,learner,extra\n"       # 7 too many columns
            + "few@example.com\n"                        # 8 too few
            + "long@example.com," + "x" * 121 + ",\n"    # 9 name too long
            + "fine@example.com,Fine,facilitator\n")     # 10


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(app, db, world):
    before = row_counts(db)
    errors = rejected(app, world, BAD_FILE)
    assert [line for line, _ in errors] == [3, 4, 5, 6, 7, 8, 9]
    reasons = dict(errors)
    assert "missing" in reasons[3]
    assert "not a valid e-mail" in reasons[4]
    assert "“admin”" in reasons[5] and "learner or facilitator" in reasons[5]
    assert "Duplicate of line 2" in reasons[6]
    assert "Too many columns" in reasons[7]
    assert "Too few columns" in reasons[8]
    assert "121 characters" in reasons[9]
    assert row_counts(db) == before  # no account, membership, e-mail or audit entry


def test_only_valid_imports_exactly_the_good_rows(app, db, world):
    report = do_import(app, world, BAD_FILE, only_valid=True)
    assert report.imported
    assert report.invited == ["good@example.com", "fine@example.com"]
    assert [e.line for e in report.errors] == [3, 4, 5, 6, 7, 8, 9]
    roster = members(db, world.cohort_a)
    assert {"good@example.com", "fine@example.com"} <= set(roster)
    assert not {"role@example.com", "many@example.com", "few@example.com",
                "long@example.com"} & set(roster)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 2


def test_a_disabled_account_is_a_bad_row(app, db, world):
    with db() as session:
        create_user(session, email="gone@example.com", is_disabled=True)
    before = row_counts(db)
    errors = rejected(app, world, HEADER + "ok@example.com,,\ngone@example.com,,\n")
    assert errors[0][0] == 3 and "disabled" in errors[0][1]
    assert row_counts(db) == before
    report = do_import(app, world, HEADER + "ok@example.com,,\ngone@example.com,,\n",
                       only_valid=True)
    assert report.invited == ["ok@example.com"] and [e.line for e in report.errors] == [3]


def test_line_numbers_count_physical_lines_of_quoted_values(app, db, world):
    errors = rejected(app, world, HEADER + 'a@example.com,"Two\nlines",learner\n'
                                           "b@example.com,,boss\n")
    assert [line for line, _ in errors] == [4]


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "empty"),
    (b"  \r\n\n", "empty"),
    ("email,name,role\nJos\u00e9@example.com,Jos\u00e9,learner\n".encode("latin-1"),
     "not UTF-8 text (line 2"),
    ("email,name,role\nana@example.com,Ana,learner\n".encode("utf-16"), "UTF-16"),
    ("email,name,role\nana@example.com,Ana,learner\n".encode("utf-16-le"), "UTF-16"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"ana@example.com,Ana,learner\n", "add the header"),
    (b"mail,full name,role\nana@example.com,Ana,learner\n", "must be the header"),
    (b"email,name\nana@example.com,Ana\n", "must be the header"),
    (b"email,name,role\n", "no rows under it"),
    (b'email,name,role\n"ana@example.com,Ana,learner\n', "quote"),
], ids=["empty", "blank", "latin-1", "utf-16-bom", "utf-16-no-bom", "binary", "no-header",
        "wrong-header", "missing-column", "header-only", "unclosed-quote"])
def test_unreadable_files_are_refused_whole_with_a_clear_reason(app, db, world, data,
                                                                expected):
    before = row_counts(db)
    for only_valid in (False, True):
        errors = rejected(app, world, data, only_valid=only_valid)
        assert len(errors) == 1 and errors[0][0] is None
        assert expected in errors[0][1], errors[0][1]
    if expected in ("UTF-16", "not UTF-8 text (line 2"):
        assert "UTF-8 CSV" in errors[0][1]
    assert row_counts(db) == before


def test_file_limits(app, db, world):
    too_many = HEADER + "".join(f"p{n}@example.com,,\n" for n in range(5001))
    errors = rejected(app, world, too_many)
    assert "more than 5,000 rows" in errors[0][1]
    too_big = HEADER + "a@example.com," + "x" * 1_000_001 + ",\n"
    errors = rejected(app, world, too_big)
    assert "larger than 1 MB" in errors[0][1]


def test_the_limit_of_rows_is_allowed(app, db, world):
    """5,000 people in one file, with a fixed number of reads for the existing ones."""
    with db() as session:
        for n in range(20):
            create_user(session, email=f"staff{n}@example.com")
    text = HEADER + "".join(f"staff{n}@example.com,,\n" for n in range(20))
    report = do_import(app, world, text)
    assert len(report.added) == 20


def test_the_rejection_lists_the_rows_in_the_error_fields(app, db, world):
    with pytest.raises(ImportRejected) as caught:
        do_import(app, world, HEADER + "a@example.com,,boss\n")
    assert caught.value.status == 422
    assert list(caught.value.fields) == ["line 2"]
    assert "Nothing was imported" in caught.value.message


# --- who may enrol ------------------------------------------------------------------------------

#: role -> what each roster action raises for cohort A (None: allowed).
ACCESS = {
    "learner_a": NotAllowed, "facilitator_a": None, "facilitator_b": NotFound,
    "owner_a": None, "owner_b": NotFound, "admin": NotFound, "outsider": NotFound,
}


@pytest.mark.parametrize("who", sorted(ACCESS))
def test_who_may_import_add_list_and_remove(app, db, world, who):
    expected = ACCESS[who]
    with db() as session:
        target = add_member(session, session.get(Cohort, world.cohort_a)).user
    actor = world.people[who]
    actions = [
        lambda: import_members(actor, world.cohort_a, b"email,name,role\nx@example.com,,",
                               only_valid=False, now=NOW),
        lambda: roster_rules.add_member(actor, world.cohort_a, email="y@example.com",
                                        role="learner", now=NOW),
        lambda: list_roster(actor, world.cohort_a),
        lambda: get_member_for_removal(actor, world.cohort_a, target.id),
        lambda: remove_member(actor, world.cohort_a, target.id, now=NOW),
    ]
    before = row_counts(db)
    for action in actions:
        with app.app_context():
            if expected is None:
                action()
            else:
                with pytest.raises(expected):
                    action()
    if expected is not None:
        assert row_counts(db) == before


# --- adding one person --------------------------------------------------------------------------

def test_add_member_adds_invites_and_refuses_duplicates(app, db, world):
    facilitator = world.people["facilitator_a"]
    with app.app_context():
        added = roster_rules.add_member(facilitator, world.cohort_a, email=" KNOWN@example.com ",
                                        name="Ignored", role="facilitator", now=NOW)
        invited = roster_rules.add_member(facilitator, world.cohort_a, email="fresh@example.com",
                                          name="Fresh Face", role="learner", now=NOW)
    assert (added.outcome, added.membership.role) == ("added", "facilitator")
    assert invited.outcome == "invited"
    with app.app_context(), pytest.raises(Conflict) as caught:
        roster_rules.add_member(facilitator, world.cohort_a, email="fresh@example.com",
                                role="facilitator", now=NOW)
    assert caught.value.code == "already_member"
    assert members(db, world.cohort_a)["fresh@example.com"] == "learner"
    with db() as session:
        assert session.get(User, world.people["known"].id).name == "Known Person"
        assert session.scalar(select(User.name).where(User.email == "fresh@example.com")) \
            == "Fresh Face"


@pytest.mark.parametrize(("email", "role", "name", "field"), [
    ("", "learner", "", "email"), ("nope", "learner", "", "email"),
    ("role-name", "learner", "", "email"),
    ("a@example.com", "owner", "", "role"), ("a@example.com", "learner", "x" * 121, "name"),
])
def test_add_member_refuses_bad_input(app, db, world, email, role, name, field):
    before = row_counts(db)
    with app.app_context(), pytest.raises(Invalid) as caught:
        roster_rules.add_member(world.people["owner_a"], world.cohort_a, email=email, name=name,
                                role=role, now=NOW)
    assert list(caught.value.fields) == [field]
    assert row_counts(db) == before


# --- removing someone ---------------------------------------------------------------------------

def test_remove_member_deletes_the_membership_and_audits_it(app, db, world):
    learner = world.people["learner_a"]
    with app.app_context():
        remove_member(world.people["facilitator_a"], world.cohort_a, learner.id,
                      now=NOW)
    assert learner.email not in members(db, world.cohort_a)
    with db() as session:
        assert session.get(User, learner.id) is not None  # the account stays
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "member.removed")).one()
        assert (entry.actor_id, entry.cohort_id, entry.target_id, entry.details["role"]) == \
            (world.people["facilitator_a"].id, world.cohort_a, learner.id, "learner")
    with app.app_context(), pytest.raises(NotFound):
        get_cohort_for(learner, world.cohort_a)
    with app.app_context(), pytest.raises(NotFound):
        remove_member(world.people["facilitator_a"], world.cohort_a, learner.id,
                      now=NOW)


def test_staff_cannot_remove_themselves_but_the_owner_can_remove_a_facilitator(app, db,
                                                                               world):
    facilitator = world.people["facilitator_a"]
    with app.app_context(), pytest.raises(Conflict):
        remove_member(facilitator, world.cohort_a, facilitator.id, now=NOW)
    with app.app_context():
        remove_member(world.people["owner_a"], world.cohort_a, facilitator.id,
                      now=NOW)
    assert facilitator.email not in members(db, world.cohort_a)


def test_the_owner_is_not_a_member_to_remove(app, db, world):
    with app.app_context(), pytest.raises(NotFound):
        remove_member(world.people["facilitator_a"], world.cohort_a,
                      world.people["owner_a"].id, now=NOW)


# --- last active --------------------------------------------------------------------------------

def last_active(db, world, who="learner_a"):
    """The member's last-active time in cohort A."""
    with db() as session:
        return session.scalar(select(Membership.last_active_at).where(
            Membership.cohort_id == world.cohort_a,
            Membership.user_id == world.people[who].id))


def test_activity_is_written_at_most_once_an_hour(app, db, world, query_counter):
    learner = world.people["learner_a"]
    assert last_active(db, world) is None
    for minutes, expected in ((0, NOW), (59, NOW), (60, NOW + timedelta(minutes=60)),
                              (90, NOW + timedelta(minutes=60))):
        with app.app_context():
            with query_counter.counting():
                touch_member_activity(learner.id, world.cohort_a,
                                      NOW + timedelta(minutes=minutes))
            # (PostgreSQL tests wrap each transaction in a savepoint of their own.)
            assert [s.split()[0] for s in query_counter.statements
                    if not s.startswith(("SAVEPOINT", "RELEASE"))] == ["UPDATE"]
        assert last_active(db, world) == expected


def test_activity_of_non_members_writes_nothing(app, db, world):
    before = row_counts(db)
    with app.app_context():
        touch_member_activity(world.people["owner_a"].id, world.cohort_a, NOW)
        touch_member_activity(world.people["learner_a"].id, world.cohort_b, NOW)
    assert row_counts(db) == before
    assert last_active(db, world) is None
