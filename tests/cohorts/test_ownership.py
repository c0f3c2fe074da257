"""Program ownership, one rule: the owner of record, while they hold the program-owner right.

A former owner (right withdrawn by a site admin) can neither author nor run anything of
their programs, whichever way they ask; and nobody can demote an owner in their own cohort
by enrolling them with a membership.
"""

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import set_site_roles
from app.cohorts import roster as roster_rules
from app.cohorts.access import (
    OWNER,
    can_listen_to_cohort,
    get_cohort_for,
    get_program_for,
    list_cohort_modules,
    list_my_cohort_roles,
    list_owned_cohorts,
    list_owned_programs,
)
from app.cohorts.authoring import (
    add_module,
    delete_module,
    launch_cohort,
    list_my_programs,
    move_module,
    update_module,
    update_program,
)
from app.cohorts.models import Cohort, Membership
from app.cohorts.roster import import_members, list_roster
from app.discussions import services as discussions
from app.errors import Conflict, NotAllowed, NotFound
from app.peer_review import services as peer_review
from tests.factories import add_member, create_cohort, create_module, create_program, create_user

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)


@pytest.fixture
def owned(db):
    """An owner's program with a module and a cohort with a facilitator; a site admin."""
    with db() as session:
        owner = create_user(session, can_own_programs=True, email="owner@example.com")
        program = create_program(session, owner=owner)
        module = create_module(session, program)
        cohort = create_cohort(session, program=program)
        facilitator = add_member(session, cohort, role="facilitator").user
        admin = create_user(session, is_admin=True)
    return {"owner": owner, "program": program.id, "module": module.id, "cohort": cohort.id,
            "facilitator": facilitator, "admin": admin}


def _withdraw(app, owned, value: bool = False) -> User:
    """A site admin withdraws (or grants again) the owner's right; the owner, reloaded."""
    with app.app_context():
        return set_site_roles(owned["admin"], owned["owner"].id, can_own_programs=value,
                              now=NOW)


def _every_authoring_action(owned) -> dict:
    """Each way to author or run the program, as a call taking the acting user."""
    program, module, cohort = owned["program"], owned["module"], owned["cohort"]
    return {
        "read program": lambda u: get_program_for(u, program),
        "update program": lambda u: update_program(
            u, program, title="Changed", summary="", goals=[], now=NOW),
        "add module": lambda u: add_module(u, program, title="New"),
        "update module": lambda u: update_module(
            u, module, title="Changed", body="", release_offset_days=0,
            release_time=time(9, 0)),
        "move module": lambda u: move_module(u, module, 0),
        "delete module": lambda u: delete_module(u, module),
        "launch": lambda u: launch_cohort(
            u, program, name="Run", starts_on=date(2026, 3, 2), timezone="UTC",
            anonymity="off", now=NOW),
        "add prompt": lambda u: discussions.add_prompt(u, module, title="Reflect"),
        "add assignment": lambda u: peer_review.add_assignment(
            u, module, title="Practise", instructions="Do it",
            rubric=[{"title": "Clear", "levels": [{"label": "No", "points": 0},
                                                  {"label": "Yes", "points": 1}]}]),
        "open cohort": lambda u: get_cohort_for(u, cohort),
        "enrol": lambda u: roster_rules.add_member(u, cohort, email="new@example.com",
                                                   role="learner", now=NOW),
        "roster": lambda u: list_roster(u, cohort),
        "release": lambda u: list_cohort_modules(u, cohort),
    }


@pytest.mark.parametrize("action", sorted(_every_authoring_action({
    "program": 0, "module": 0, "cohort": 0})))
def test_a_former_owner_is_refused_every_authoring_and_running_action(app, db, owned,
                                                                       table_counts, action):
    former = _withdraw(app, owned)
    before = table_counts()
    with app.app_context(), pytest.raises(NotAllowed) as refused:
        _every_authoring_action(owned)[action](former)
    assert refused.value.code == "owner_right_withdrawn"
    assert "withdrawn" in refused.value.message
    assert table_counts() == before


def test_granting_the_right_again_restores_everything(app, db, owned):
    _withdraw(app, owned)
    owner = _withdraw(app, owned, value=True)
    with app.app_context():
        assert get_program_for(owner, owned["program"]).id == owned["program"]
        assert get_cohort_for(owner, owned["cohort"]).role == OWNER
        add_module(owner, owned["program"], title="Back again")


def test_a_former_owner_lists_no_programs_or_owned_cohorts(app, db, owned):
    former = _withdraw(app, owned)
    with app.app_context():
        assert list_owned_programs(former) == []
        assert list_owned_cohorts(former) == []
        assert list_my_programs(former) == []
        assert list_my_cohort_roles(former) == []
        assert not can_listen_to_cohort(former, owned["cohort"])


def test_a_former_owner_keeps_the_memberships_they_hold(app, db, owned):
    with db() as session:
        add_member(session, session.get(Cohort, owned["cohort"]),
                   session.get(User, owned["owner"].id), role="facilitator")
    former = _withdraw(app, owned)
    with app.app_context():
        assert get_cohort_for(former, owned["cohort"]).role == "facilitator"
        with pytest.raises(NotAllowed):
            get_program_for(former, owned["program"])


def test_someone_elses_program_stays_not_found_for_a_former_owner(app, db, owned):
    former = _withdraw(app, owned)
    with db() as session:
        other = create_program(session)
    with app.app_context(), pytest.raises(NotFound):
        get_program_for(former, other.id)


# --- an owner cannot be demoted in their own cohort -------------------------------------------

def test_a_facilitator_cannot_enrol_the_owner_with_another_role(app, db, owned, table_counts):
    before = table_counts()
    with app.app_context():
        for role in ("learner", "facilitator"):
            with pytest.raises(Conflict) as refused:
                roster_rules.add_member(owned["facilitator"], owned["cohort"],
                                        email="OWNER@example.com", role=role, now=NOW)
            assert refused.value.code == "already_member"
            assert "owns this cohort's program" in refused.value.message
        assert get_cohort_for(owned["owner"], owned["cohort"]).role == OWNER
    assert table_counts() == before


def test_an_import_lists_the_owner_as_already_in_the_cohort(app, db, owned):
    csv = b"email,name,role\nowner@example.com,,learner\nnew@example.com,,\n"
    with app.app_context():
        report = import_members(owned["facilitator"], owned["cohort"], csv,
                                only_valid=False, now=NOW)
        assert report.already_members == ["owner@example.com"]
        assert report.invited == ["new@example.com"]
        assert get_cohort_for(owned["owner"], owned["cohort"]).role == OWNER
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Membership).where(
            Membership.user_id == owned["owner"].id)) == 0


def test_a_membership_from_before_never_outranks_ownership(app, db, owned):
    with db() as session:
        add_member(session, session.get(Cohort, owned["cohort"]),
                   session.get(User, owned["owner"].id), role="learner")
    with app.app_context():
        access = get_cohort_for(owned["owner"], owned["cohort"])
        assert access.role == OWNER and access.is_staff
        assert dict((c.id, r) for c, r in list_my_cohort_roles(owned["owner"])) == {
            owned["cohort"]: OWNER}
        list_roster(owned["owner"], owned["cohort"])


# --- one enrolment path -------------------------------------------------------------------------

def test_there_is_one_enrolment_path(app):
    assert not hasattr(roster_rules, "enroll_member")


def test_enrolment_never_changes_an_existing_members_role(app, db, owned):
    with db() as session:
        learner = add_member(session, session.get(Cohort, owned["cohort"])).user
    with app.app_context(), pytest.raises(Conflict):
        roster_rules.add_member(owned["facilitator"], owned["cohort"], email=learner.email,
                                role="facilitator", now=NOW)
    with db() as session:
        assert session.scalar(select(Membership.role).where(
            Membership.user_id == learner.id)) == "learner"
