"""Authoring assignments and rubrics, the per-cohort copy at launch, and the part provider."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.audit import AuditEntry
from app.cohorts.access import get_module_for, get_program_for, list_cohort_modules
from app.cohorts.authoring import launch_cohort
from app.cohorts.models import CohortModule
from app.cohorts.parts import Link, parts_of_cohort_modules, parts_of_modules
from app.errors import Invalid, NotAllowed, NotFound
from app.peer_review import services
from app.peer_review.models import Assignment, CohortAssignment, Rubric, RubricCriterion
from app.templating import link_url
from tests.factories import create_cohort, create_module, create_program
from tests.peer_review.conftest import NOT_OWNERS

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def rubric(*criteria: tuple[str, list[int]]) -> list[dict]:
    """A rubric from (title, [points of each level])."""
    return [{"title": title, "description": f"About {title}",
             "levels": [{"label": f"Level {n}", "points": p} for n, p in enumerate(points)]}
            for title, points in criteria]


RUBRIC = rubric(("Clarity", [0, 2, 4]), ("Kindness", [0, 1]))
WINDOWS = {"reviews_required": 3, "submit_days": 4, "review_days": 3,
           "review_expiry_hours": 48}


def _add(app, user, module_id, **fields):
    """Add an assignment in its own app context."""
    with app.app_context():
        return services.add_assignment(user, module_id, **{
            "title": "Practise", "instructions": "Do it.", "rubric": RUBRIC, **fields})


def _invalid(app, user, module_id, **fields) -> dict:
    """The field errors of a refused assignment."""
    with pytest.raises(Invalid) as raised:
        _add(app, user, module_id, **fields)
    return raised.value.fields


def test_an_assignment_is_added_with_its_rubric_and_audited(app, db, authoring):
    assignment = _add(app, authoring.people["owner"], authoring.module_id)
    with db() as session:
        stored = session.get(Assignment, assignment.id)
        assert (stored.reviews_required, stored.submit_days, stored.review_days,
                stored.review_expiry_hours) == (3, 7, 4, 48)
        criteria = stored.rubric.criteria
        assert [(c.title, c.description, [lv.points for lv in c.levels]) for c in criteria] == [
            ("Clarity", "About Clarity", [0, 2, 4]), ("Kindness", "About Kindness", [0, 1])]
        assert services.max_points(stored.rubric) == 5
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "assignment.created")) == 1


@pytest.mark.parametrize("fields, errors", [
    ({"title": ""}, {"title"}),
    ({"rubric": []}, {"rubric"}),
    ({"rubric": rubric(*[(f"C{n}", [0, 1]) for n in range(13)])}, {"rubric"}),
    ({"rubric": rubric(("Only one level", [1]))}, {"rubric.0.levels"}),
    ({"rubric": rubric(("Seven", [0, 1, 2, 3, 4, 5, 6]))}, {"rubric.0.levels"}),
    ({"rubric": rubric(("Fine", [0, 1]), ("", [0, -1]))},
     {"rubric.1.title", "rubric.1.levels.1.points"}),
    ({"rubric": [{"title": "T", "levels": [{"label": "", "points": 1},
                                           {"label": "ok", "points": 1.5}]}]},
     {"rubric.0.levels.0.label", "rubric.0.levels.1.points"}),
    ({"reviews_required": 0, "submit_days": 366, "review_days": -1,
      "review_expiry_hours": 721}, {"reviews_required", "submit_days", "review_days",
                                    "review_expiry_hours"}),
    ({"review_expiry_hours": 0}, {"review_expiry_hours"}),
])
def test_bad_assignments_are_refused_field_by_field(app, db, authoring, fields, errors):
    found = _invalid(app, authoring.people["owner"], authoring.module_id, **fields)
    assert set(found) == errors
    assert all(message.endswith(".") for message in found.values())
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Rubric)) == 0


def test_level_messages_name_the_criterion_and_level(app, authoring):
    found = _invalid(app, authoring.people["owner"], authoring.module_id,
                     rubric=rubric(("Clarity", [0, 1]), ("Depth", [0, -3])))
    assert found == {"rubric.1.levels.1.points": "Give level 2 of criterion 2 a whole number "
                                                 "of points from 0 to 1000."}


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_the_programs_owner_authors_its_assignments(app, authoring, role):
    user = authoring.people[role]
    assignment = _add(app, authoring.people["owner"], authoring.module_id)
    with app.app_context(), pytest.raises(NotFound):
        services.add_assignment(user, authoring.module_id, title="Mine", rubric=RUBRIC)
    with app.app_context(), pytest.raises(NotFound):
        services.update_assignment(user, authoring.module_id, assignment.id, title="Mine",
                                   instructions="", rubric=RUBRIC, **WINDOWS)
    with app.app_context(), pytest.raises(NotFound):
        services.delete_assignment(user, authoring.module_id, assignment.id)


def test_an_owner_whose_rights_were_withdrawn_is_not_allowed(app, db, authoring):
    owner = authoring.people["owner"]
    with db() as session:
        session.get(type(owner), owner.id).can_own_programs = False
        owner = session.get(type(owner), owner.id)
    with app.app_context(), pytest.raises(NotAllowed):
        services.add_assignment(owner, authoring.module_id, title="Still mine?",
                                rubric=RUBRIC)


def test_editing_replaces_only_this_assignments_rubric_rows(app, db, authoring):
    owner = authoring.people["owner"]
    first = _add(app, owner, authoring.module_id)
    second = _add(app, owner, authoring.module_id, title="Another")
    with db() as session:
        old_ids = set(session.scalars(select(RubricCriterion.id).where(
            RubricCriterion.rubric_id == first.rubric_id)))
        second_rows = [(c.id, c.title) for c in session.get(Rubric, second.rubric_id).criteria]
    with app.app_context():
        services.update_assignment(owner, authoring.module_id, first.id, title="Renamed",
                                   instructions="", rubric=rubric(("Evidence", [1, 3, 9])),
                                   **WINDOWS)
    with db() as session:
        stored = session.get(Assignment, first.id)
        assert stored.rubric_id == first.rubric_id
        assert [(c.title, [lv.points for lv in c.levels]) for c in stored.rubric.criteria] == [
            ("Evidence", [1, 3, 9])]
        assert not old_ids & {c.id for c in stored.rubric.criteria}
        assert session.scalar(select(func.count()).select_from(RubricCriterion).where(
            RubricCriterion.id.in_(old_ids))) == 0
        assert [(c.id, c.title) for c in session.get(Rubric, second.rubric_id).criteria] == (
            second_rows)
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "assignment.updated")).one()
        assert "rubric" in entry.details["changed"] and "title" in entry.details["changed"]


def test_deleting_removes_the_assignment_and_its_rubric(app, db, authoring):
    owner = authoring.people["owner"]
    assignment = _add(app, owner, authoring.module_id)
    with app.app_context():
        services.delete_assignment(owner, authoring.module_id, assignment.id)
    with db() as session:
        assert session.get(Assignment, assignment.id) is None
        assert session.get(Rubric, assignment.rubric_id) is None
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "assignment.deleted")) == 1


# --- launch ------------------------------------------------------------------------------------

def _launch(app, owner, program_id):
    """Launch a cohort in Berlin starting Monday 23 March 2026 (clocks change on the 29th)."""
    with app.app_context():
        return launch_cohort(owner, program_id, name="Spring",
                                     starts_on=date(2026, 3, 23), timezone="Europe/Berlin",
                                     anonymity="peers", now=NOW)


def _copies(session, cohort_id):
    """A cohort's assignments, in order."""
    return session.scalars(select(CohortAssignment).where(
        CohortAssignment.cohort_id == cohort_id).order_by(CohortAssignment.position)).all()


def test_each_cohort_gets_its_own_copy_of_every_rubric(app, db, authoring):
    owner = authoring.people["owner"]
    assignment = _add(app, owner, authoring.module_id, **WINDOWS)
    first, second = _launch(app, owner, authoring.program_id), _launch(app, owner,
                                                                       authoring.program_id)
    with db() as session:
        (a,), (b,) = _copies(session, first.id), _copies(session, second.id)
        assert (a.assignment_id, a.title, a.instructions, a.reviews_required, a.submit_days,
                a.review_days, a.review_expiry_hours) == (
            assignment.id, "Practise", "Do it.", 3, 4, 3, 48)
        assert len({a.rubric_id, b.rubric_id, assignment.rubric_id}) == 3
        for copy in (a, b):
            assert [(c.title, c.description, [(lv.label, lv.points) for lv in c.levels])
                    for c in copy.rubric.criteria] == [
                ("Clarity", "About Clarity", [("Level 0", 0), ("Level 1", 2), ("Level 2", 4)]),
                ("Kindness", "About Kindness", [("Level 0", 0), ("Level 1", 1)])]


def test_later_edits_never_change_a_running_cohorts_assignment(app, db, authoring):
    owner = authoring.people["owner"]
    assignment = _add(app, owner, authoring.module_id)
    cohort = _launch(app, owner, authoring.program_id)
    with app.app_context():
        services.update_assignment(owner, authoring.module_id, assignment.id, title="New",
                                   instructions="Changed", rubric=rubric(("Other", [5, 6])),
                                   reviews_required=1, submit_days=1, review_days=1,
                                   review_expiry_hours=2)
    with db() as session:
        (copy,) = _copies(session, cohort.id)
        assert (copy.title, copy.instructions, copy.reviews_required) == (
            "Practise", "Do it.", 3)
        assert [c.title for c in copy.rubric.criteria] == ["Clarity", "Kindness"]
    with app.app_context():
        services.delete_assignment(owner, authoring.module_id, assignment.id)
    with db() as session:
        (copy,) = _copies(session, cohort.id)
        assert copy.assignment_id is None
        assert [c.title for c in copy.rubric.criteria] == ["Clarity", "Kindness"]


def test_copying_reads_with_a_fixed_number_of_queries(app, db, authoring, query_counter):
    owner = authoring.people["owner"]
    counts = []
    for modules, per_module in ((1, 1), (3, 3)):
        with db() as session:
            program = create_program(session, owner=owner)
            for _ in range(modules):
                create_module(session, program)
        with app.app_context():
            for module in program.modules:
                for n in range(per_module):
                    services.add_assignment(owner, module.id, title=f"A{n}", rubric=RUBRIC)
        with db() as session:
            cohort = create_cohort(session, program=program)
            rows = [CohortModule(cohort_id=cohort.id, module_id=m.id, position=m.position,
                                 title=m.title, release_at=NOW) for m in program.modules]
            session.add_all(rows)
            session.flush()
            mapping = {row.module_id: row.id for row in rows}
        with app.app_context():
            with query_counter.counting():
                copies = services.copy_assignments_to_cohort(cohort, mapping)
            reads = [s for s in query_counter.statements if s.lstrip().startswith("SELECT")]
            counts.append((len(reads), query_counter.count, len(copies)))
    assert counts[0][0] == counts[1][0] == 4  # assignments, rubrics, criteria, levels
    assert (counts[0][2], counts[1][2]) == (1, 9)
    if app.extensions["database"].engine.dialect.name == "postgresql":
        assert counts[0][1] == counts[1][1]  # inserts are batched too


def test_a_cohort_assignment_with_its_rubric_is_read_by_members_once_released(app, db,
                                                                              authoring):
    owner = authoring.people["owner"]
    _add(app, owner, authoring.module_id)
    cohort = _launch(app, owner, authoring.program_id)
    with db() as session:
        (copy,) = _copies(session, cohort.id)
        learner = authoring.people["learner"]
    with app.app_context():
        with pytest.raises(NotFound):  # the learner is in another cohort of the program
            services.get_cohort_assignment(learner, cohort.id, copy.id, now=NOW)
        read = services.get_cohort_assignment(owner, cohort.id, copy.id, now=NOW)
        assert [c.title for c in read.rubric.criteria] == ["Clarity", "Kindness"]


# --- parts -------------------------------------------------------------------------------------

def test_assignment_parts_summarise_the_rubric_and_link_to_the_edit_page(app, authoring):
    owner = authoring.people["owner"]
    assignment = _add(app, owner, authoring.module_id, rubric=rubric(
        ("A", [0, 3]), ("B", [1, 3]), ("C", [0, 2, 3]), ("D", [3, 0])), **WINDOWS)
    with app.test_request_context():
        module = get_module_for(owner, authoring.module_id)
        (part,) = parts_of_modules([module])[module.id]
    assert (part.kind, part.id, part.module_id) == ("assignment", assignment.id,
                                                    authoring.module_id)
    with app.test_request_context():
        assert link_url(part.link) == \
            f"/modules/{authoring.module_id}/assignments/{assignment.id}/edit"
    assert part.facts[0] == "3 peer reviews each, 4 criteria, up to 12 points"
    assert part.facts[1:] == ("Submissions due 4 days after the module opens",
                              "Reviews due 3 days later")


def test_due_dates_keep_local_time_across_the_daylight_saving_change(app, authoring):
    owner = authoring.people["owner"]
    _add(app, owner, authoring.module_id, **WINDOWS)
    cohort = _launch(app, owner, authoring.program_id)
    with app.app_context():
        access, modules = list_cohort_modules(owner, cohort.id)
        (part,) = parts_of_cohort_modules(access, modules)[modules[0].id]
    # Released 09:00 CET (08:00 UTC) on 23 March; due 4 days later, still CET; reviews
    # 3 days after that, 30 March 09:00 CEST, which is 07:00 UTC.
    submissions_due = datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert part.dates == (("Submissions due", submissions_due),
                          ("Reviews due", datetime(2026, 3, 30, 7, 0, tzinfo=UTC)))
    assert part.due_at == submissions_due
    assert part.link == Link.to("peer_work.assignment", assignment_id=part.id)
    assert part.kind == "assignment" and part.module_id == modules[0].id
    assert part.facts == ("3 peer reviews each, 2 criteria, up to 5 points",)


def test_providers_ask_once_however_many_modules(app, db, authoring, query_counter):
    owner = authoring.people["owner"]
    with db() as session:
        program = create_program(session, owner=owner)
        for _ in range(4):
            create_module(session, program)
    with app.app_context():
        for module in program.modules:
            services.add_assignment(owner, module.id, title="A", rubric=RUBRIC)
    cohort = _launch(app, owner, program.id)
    with app.test_request_context():
        modules = get_program_for(owner, program.id).modules
        access, cohort_modules = list_cohort_modules(owner, cohort.id)
        with query_counter.counting():
            parts = services.provider.parts_of_modules(modules)
        assert (query_counter.count, len(parts)) == (1, 4)
        with query_counter.counting():
            parts = services.provider.parts_of_many_cohorts([(access, cohort_modules)])
        assert (query_counter.count, len(parts)) == (1, 4)
