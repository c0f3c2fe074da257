"""Authoring prompts, copying them into threads at launch, and the part provider."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.audit import AuditEntry
from app.cohorts.access import get_module_for, get_program_for, list_cohort_modules
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.parts import Link, parts_of_cohort_modules, parts_of_modules
from app.cohorts.signals import cohort_launched
from app.discussions import services
from app.discussions.models import Prompt, Thread
from app.errors import Invalid, NotAllowed, NotFound
from app.templating import link_url
from tests.conftest import test_config as make_config
from tests.discussions.conftest import NOT_OWNERS
from tests.factories import create_cohort, create_module, create_program, create_user

NOW = datetime(2026, 3, 1, tzinfo=UTC)
STAGES = {"respond_after_days": 2, "synthesize_after_days": 5, "close_after_days": 7}


def _add(app, user, module_id, **fields):
    """Add a prompt in its own app context."""
    with app.app_context():
        return services.add_prompt(user, module_id, **{"title": "Reflect", **fields})


def _invalid(app, user, module_id, **fields) -> dict:
    """The field errors of a refused prompt."""
    with pytest.raises(Invalid) as raised:
        _add(app, user, module_id, **fields)
    return raised.value.fields


def test_a_prompt_is_added_with_defaults_and_audited(app, db, authoring):
    owner = authoring.people["owner"]
    first = _add(app, owner, authoring.module_id, title="  What did you notice?  ",
                 body="Think of **one** meeting.")
    second = _add(app, owner, authoring.module_id, anonymity_allowed=False, min_replies=0,
                  respond_after_days=0, synthesize_after_days=0, close_after_days=0)
    assert (first.title, first.position, second.position) == ("What did you notice?", 0, 1)
    assert (first.respond_after_days, first.synthesize_after_days, first.close_after_days,
            first.min_replies, first.anonymity_allowed) == (2, 5, 7, 2, True)
    with db() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "prompt.created")).all()
        assert [e.target_id for e in entries] == [first.id, second.id]
        assert entries[0].actor_id == owner.id


@pytest.mark.parametrize("fields, field, words", [
    ({"title": "  "}, "title", "1 to 200"),
    ({"title": "x" * 201}, "title", "1 to 200"),
    ({"body": "x" * 50_001}, "body", "under 50,000"),
    ({"respond_after_days": -1}, "respond_after_days", "0 to 365"),
    ({"close_after_days": 366}, "close_after_days", "0 to 365"),
    ({"respond_after_days": True}, "respond_after_days", "whole number"),
    ({"respond_after_days": 3, "synthesize_after_days": 2}, "synthesize_after_days",
     "before replies open"),
    ({"synthesize_after_days": 6, "close_after_days": 5}, "close_after_days",
     "before synthesis opens"),
    ({"min_replies": 21}, "min_replies", "0 to 20"),
    ({"min_replies": -1}, "min_replies", "0 to 20"),
])
def test_bad_prompts_are_refused_with_a_sentence_per_field(app, db, authoring, fields, field,
                                                           words):
    errors = _invalid(app, authoring.people["owner"], authoring.module_id, **fields)
    assert list(errors) == [field]
    assert words in errors[field] and errors[field].endswith(".")
    with db() as session:
        assert session.scalars(select(Prompt)).all() == []


def test_every_problem_is_reported_at_once(app, authoring):
    errors = _invalid(app, authoring.people["owner"], authoring.module_id, title="",
                      respond_after_days=400, min_replies=99)
    assert set(errors) == {"title", "respond_after_days", "min_replies"}


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_the_programs_owner_authors_its_prompts(app, authoring, role):
    user = authoring.people[role]
    prompt = _add(app, authoring.people["owner"], authoring.module_id)
    with app.app_context(), pytest.raises(NotFound):
        services.add_prompt(user, authoring.module_id, title="Mine now")
    with app.app_context(), pytest.raises(NotFound):
        services.update_prompt(user, authoring.module_id, prompt.id, title="Mine now",
                               body="", anonymity_allowed=True, min_replies=1, **STAGES)
    with app.app_context(), pytest.raises(NotFound):
        services.delete_prompt(user, authoring.module_id, prompt.id)


def test_an_owner_whose_rights_were_withdrawn_is_not_allowed(app, db, authoring):
    owner = authoring.people["owner"]
    with db() as session:
        session.get(type(owner), owner.id).can_own_programs = False
        owner = session.get(type(owner), owner.id)
    with app.app_context(), pytest.raises(NotAllowed):
        services.add_prompt(owner, authoring.module_id, title="Still mine?")


def test_a_prompt_is_found_only_under_its_own_module(app, db, authoring):
    owner = authoring.people["owner"]
    prompt = _add(app, owner, authoring.module_id)
    with db() as session:
        program = create_program(session, owner=owner)
        other_module = create_module(session, program)
    with app.app_context(), pytest.raises(NotFound):
        services.delete_prompt(owner, other_module.id, prompt.id)


def test_update_and_delete_are_audited(app, db, authoring):
    owner = authoring.people["owner"]
    prompt = _add(app, owner, authoring.module_id)
    with app.app_context():
        updated = services.update_prompt(
            owner, authoring.module_id, prompt.id, title="Reflect more", body="New",
            anonymity_allowed=False, min_replies=3, respond_after_days=1,
            synthesize_after_days=4, close_after_days=9)
        assert (updated.title, updated.min_replies, updated.close_after_days) == (
            "Reflect more", 3, 9)
        services.delete_prompt(owner, authoring.module_id, prompt.id)
    with db() as session:
        assert session.get(Prompt, prompt.id) is None
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type == "prompt").order_by(AuditEntry.id)).all()
        assert actions == ["prompt.created", "prompt.updated", "prompt.deleted"]
        changed = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "prompt.updated")).one().details["changed"]
        assert "title" in changed and "min_replies" in changed


# --- launch ------------------------------------------------------------------------------------

def _launch(app, owner, program_id, starts_on=date(2026, 3, 23), timezone="Europe/Berlin"):
    """Launch a cohort of the program."""
    with app.app_context():
        return launch_cohort(owner, program_id, name="Spring", starts_on=starts_on,
                                     timezone=timezone, anonymity="peers", now=NOW)


def test_launch_copies_each_prompt_into_a_thread_of_the_cohort_module(app, db, authoring):
    owner = authoring.people["owner"]
    first = _add(app, owner, authoring.module_id, title="First", body="One",
                 anonymity_allowed=False, min_replies=1, respond_after_days=1,
                 synthesize_after_days=3, close_after_days=10)
    _add(app, owner, authoring.module_id, title="Second")
    cohort = _launch(app, owner, authoring.program_id)
    with db() as session:
        cohort_module = session.scalars(select(CohortModule).where(
            CohortModule.cohort_id == cohort.id)).one()
        threads = session.scalars(select(Thread).where(Thread.cohort_id == cohort.id)
                                  .order_by(Thread.position)).all()
        assert [t.title for t in threads] == ["First", "Second"]
        copy = threads[0]
        assert (copy.cohort_module_id, copy.prompt_id, copy.body, copy.anonymity_allowed,
                copy.min_replies, copy.respond_after_days, copy.synthesize_after_days,
                copy.close_after_days) == (cohort_module.id, first.id, "One", False, 1, 1, 3, 10)


def test_later_edits_never_change_a_running_cohorts_threads(app, db, authoring):
    owner = authoring.people["owner"]
    prompt = _add(app, owner, authoring.module_id, title="Original", body="Before")
    cohort = _launch(app, owner, authoring.program_id)
    with app.app_context():
        services.update_prompt(owner, authoring.module_id, prompt.id, title="Edited",
                               body="After", anonymity_allowed=False, min_replies=5,
                               respond_after_days=3, synthesize_after_days=4,
                               close_after_days=20)
    with db() as session:
        thread = session.scalars(select(Thread).where(Thread.cohort_id == cohort.id)).one()
        assert (thread.title, thread.body, thread.min_replies, thread.close_after_days,
                thread.anonymity_allowed) == ("Original", "Before", 2, 7, True)
    with app.app_context():
        services.delete_prompt(owner, authoring.module_id, prompt.id)
    with db() as session:
        thread = session.scalars(select(Thread).where(Thread.cohort_id == cohort.id)).one()
        assert (thread.title, thread.prompt_id) == ("Original", None)
    later = _launch(app, owner, authoring.program_id)
    with db() as session:
        assert session.scalars(select(Thread).where(Thread.cohort_id == later.id)).all() == []


def test_copying_takes_a_fixed_number_of_queries(app, db, authoring, query_counter):
    owner = authoring.people["owner"]
    with db() as session:
        small = create_program(session, owner=owner)
        create_module(session, small)
        big = create_program(session, owner=owner)
        for _ in range(3):
            create_module(session, big)
    with app.app_context():
        for module in list(small.modules) + list(big.modules):
            for n in range(3 if module.program_id == big.id else 1):
                services.add_prompt(owner, module.id, title=f"Prompt {n}")
    counts = []
    for program in (small, big):
        with db() as session:
            # A cohort with its modules but no threads yet, as in the middle of a launch.
            cohort = create_cohort(session, program=program)
            copies = [CohortModule(cohort_id=cohort.id, module_id=m.id, position=m.position,
                                   title=m.title, release_at=NOW) for m in program.modules]
            session.add_all(copies)
            session.flush()
            modules = {copy.module_id: copy.id for copy in copies}
        with app.app_context():
            with query_counter.counting():
                copied = services.copy_prompts_to_cohort(cohort, modules)
            counts.append((query_counter.count, copied))
    assert counts[0][1] == 1 and counts[1][1] == 9
    assert counts[0][0] == counts[1][0] <= 3


def test_the_launch_receiver_is_connected_once_per_process(app):
    from app import create_app

    receivers = len(cohort_launched.receivers)
    create_app(make_config())
    assert len(cohort_launched.receivers) == receivers


# --- parts -------------------------------------------------------------------------------------

def test_prompt_parts_state_the_offsets_and_link_to_the_edit_page(app, authoring):
    owner = authoring.people["owner"]
    prompt = _add(app, owner, authoring.module_id, title="Ask", min_replies=1,
                  respond_after_days=0, synthesize_after_days=1, close_after_days=7)
    with app.test_request_context():
        module = get_module_for(owner, authoring.module_id)
        (part,) = parts_of_modules([module])[module.id]
    assert (part.kind, part.id, part.module_id, part.title) == (
        "prompt", prompt.id, authoring.module_id, "Ask")
    with app.test_request_context():
        assert link_url(part.link) == \
            f"/modules/{authoring.module_id}/prompts/{prompt.id}/edit"
    assert part.facts == ("Replies open when the module opens",
                          "Synthesis opens 1 day after the module opens",
                          "Closes 7 days after the module opens", "Reply to at least 1 peer",
                          "Anonymous posting allowed")


def test_thread_dates_keep_local_time_across_the_daylight_saving_change(app, db, authoring):
    owner = authoring.people["owner"]
    _add(app, owner, authoring.module_id, title="Spring forward", respond_after_days=2,
         synthesize_after_days=5, close_after_days=7)
    # Released Monday 23 March 2026, 09:00 in Berlin (CET, UTC+1); clocks go forward on
    # Sunday 29 March, so the close a week later is 09:00 CEST, 07:00 UTC.
    cohort = _launch(app, owner, authoring.program_id)
    with app.app_context():
        access, modules = list_cohort_modules(owner, cohort.id)
        (part,) = parts_of_cohort_modules(access, modules)[modules[0].id]
    assert part.kind == "thread" and part.link == Link.to("threads.thread", thread_id=part.id)
    assert modules[0].release_at == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
    assert part.dates == (
        ("Replies open", datetime(2026, 3, 25, 8, 0, tzinfo=UTC)),
        ("Synthesis opens", datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
        ("Closes", datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    )
    # The owner's own facts first: nothing unread, and the stage now (long closed).
    assert part.facts == ("No new posts", "Stage: Closed", "Reply to at least 2 peers",
                          "Anonymous posting allowed")


def test_providers_ask_once_however_many_modules(app, db, authoring, query_counter):
    owner = authoring.people["owner"]
    with db() as session:
        program = create_program(session, owner=owner)
        for _ in range(4):
            create_module(session, program)
    with app.app_context():
        for module in program.modules:
            services.add_prompt(owner, module.id, title="Prompt")
    cohort = _launch(app, owner, program.id)
    with app.test_request_context():
        modules = get_program_for(owner, program.id).modules
        access, cohort_modules = list_cohort_modules(owner, cohort.id)
        with query_counter.counting():
            parts = services.provider.parts_of_modules(modules)
        assert (query_counter.count, len(parts)) == (1, 4)
        with query_counter.counting():
            parts = services.provider.parts_of_cohort_modules(access, cohort_modules)
        assert (query_counter.count, len(parts)) == (1, 4)


def test_an_outsider_without_rights_cannot_create_through_a_missing_module(app, db):
    with db() as session:
        user = create_user(session, can_own_programs=True)
    with app.app_context(), pytest.raises(NotFound):
        services.add_prompt(user, 987654, title="Nowhere")
