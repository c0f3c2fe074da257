"""Peer review rules: authoring practice assignments and their rubrics, copying them into a
launching cohort (each copy with a rubric of its own), and the parts module pages show."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased, defer, selectinload

from app import audit
from app.accounts.models import User
from app.cohorts.access import CohortAccess, get_cohort_module, get_module_for
from app.cohorts.models import Cohort, CohortModule, Module
from app.cohorts.parts import Link, ModulePart
from app.cohorts.schedule import days_after
from app.db import get_session, lock_for_update, transaction
from app.errors import Invalid, NotFound
from app.peer_review.models import (
    ASSIGNMENT_DEFAULTS,
    ASSIGNMENT_SETTINGS,
    RESULTS_AFTER,
    Assignment,
    CohortAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from app.peer_review.work_models import Review, Submission
from app.text import one_line_problem

MAX_TITLE = 200
MAX_TEXT = 50_000
MAX_DESCRIPTION = 2_000
MIN_CRITERIA, MAX_CRITERIA = 1, 12
MIN_LEVELS, MAX_LEVELS = 2, 6
MAX_POINTS = 1_000
MAX_DAYS = 365

#: A rubric as services take it: ``[{"title", "description"?, "levels": [{"label", "points"}]}]``.
RubricInput = Sequence[Mapping]


# --- access ------------------------------------------------------------------------------------

def get_authoring_module(user: User, module_id: int) -> Module:
    """A module whose assignments the user may edit (see ``get_module_for``)."""
    return get_module_for(user, module_id)


def get_assignment_for(user: User, module_id: int, assignment_id: int) -> Assignment:
    """An assignment (with its rubric) of a module the user may edit, else NotFound."""
    get_authoring_module(user, module_id)
    assignment = get_session().scalar(
        select(Assignment).where(Assignment.id == assignment_id)
        .options(selectinload(Assignment.rubric).selectinload(Rubric.criteria)
                 .selectinload(RubricCriterion.levels))
    )
    if assignment is None or assignment.module_id != module_id:
        raise NotFound()
    return assignment


def get_cohort_assignment(user: User, cohort_id: int, cohort_assignment_id: int, *,
                          now: datetime) -> CohortAssignment:
    """A cohort's assignment with its own rubric, for those who may see its module."""
    session = get_session()
    assignment = session.scalar(
        select(CohortAssignment).where(CohortAssignment.id == cohort_assignment_id)
        .options(selectinload(CohortAssignment.rubric).selectinload(Rubric.criteria)
                 .selectinload(RubricCriterion.levels))
    )
    if assignment is None or assignment.cohort_id != cohort_id:
        raise NotFound()
    # Learners see an assignment only once its module is released.
    get_cohort_module(user, cohort_id, assignment.cohort_module_id, now=now)
    return assignment


def max_points(rubric: Rubric) -> int:
    """The best possible score: the top level of every criterion."""
    return sum(max((level.points for level in c.levels), default=0) for c in rubric.criteria)


# --- validation --------------------------------------------------------------------------------

def _is_int(value) -> bool:
    """A whole number (``True`` is not one, even though Python says so)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_rubric(rubric: RubricInput, errors: dict[str, str]) -> list[dict]:
    """Check a rubric, adding problems to ``errors`` keyed like ``rubric.0.levels.1.points``."""
    if not isinstance(rubric, Sequence) or isinstance(rubric, str | bytes):
        errors["rubric"] = "Give the rubric as a list of criteria."
        return []
    if not MIN_CRITERIA <= len(rubric) <= MAX_CRITERIA:
        errors["rubric"] = f"A rubric has {MIN_CRITERIA} to {MAX_CRITERIA} criteria."
        return []
    cleaned = []
    for c, criterion in enumerate(rubric):
        where = f"rubric.{c}"
        title = str(criterion.get("title") or "").strip()
        if not title or len(title) > MAX_TITLE:
            errors[f"{where}.title"] = (
                f"Give criterion {c + 1} a title of 1 to {MAX_TITLE} characters.")
        elif problem := one_line_problem(title):
            errors[f"{where}.title"] = problem
        description = str(criterion.get("description") or "").strip()
        if len(description) > MAX_DESCRIPTION:
            errors[f"{where}.description"] = (
                f"Keep the description of criterion {c + 1} under {MAX_DESCRIPTION:,} "
                "characters.")
        levels = criterion.get("levels") or []
        if not MIN_LEVELS <= len(levels) <= MAX_LEVELS:
            errors[f"{where}.levels"] = (
                f"Criterion {c + 1} needs {MIN_LEVELS} to {MAX_LEVELS} levels.")
            levels = []
        clean_levels = []
        for n, level in enumerate(levels):
            label = str(level.get("label") or "").strip()
            if not label or len(label) > MAX_TITLE:
                errors[f"{where}.levels.{n}.label"] = (
                    f"Give level {n + 1} of criterion {c + 1} a label of 1 to {MAX_TITLE} "
                    "characters.")
            elif problem := one_line_problem(label):
                errors[f"{where}.levels.{n}.label"] = problem
            points = level.get("points")
            if not _is_int(points) or not 0 <= points <= MAX_POINTS:
                errors[f"{where}.levels.{n}.points"] = (
                    f"Give level {n + 1} of criterion {c + 1} a whole number of points "
                    f"from 0 to {MAX_POINTS}.")
            clean_levels.append({"label": label, "points": points})
        cleaned.append({"title": title, "description": description, "levels": clean_levels})
    return cleaned


def _clean_assignment(*, title: str, instructions: str, rubric: RubricInput,
                      reviews_required: int, submit_days: int, review_days: int,
                      review_expiry_hours: int, submit_first: bool = True,
                      results_after: str = "reviews_done",
                      double_blind: bool = True) -> tuple[dict, list[dict]]:
    """Check an assignment's fields and rubric; raise Invalid with every problem found."""
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        errors["title"] = f"Give the assignment a title of 1 to {MAX_TITLE} characters."
    elif problem := one_line_problem(title):
        errors["title"] = problem
    instructions = instructions or ""
    if len(instructions) > MAX_TEXT:
        errors["instructions"] = f"Keep the instructions under {MAX_TEXT:,} characters."
    if not _is_int(reviews_required) or not 1 <= reviews_required <= 10:
        errors["reviews_required"] = "Ask for 1 to 10 peer reviews of each submission."
    if not _is_int(submit_days) or not 0 <= submit_days <= MAX_DAYS:
        errors["submit_days"] = f"Use a whole number of days from 0 to {MAX_DAYS}."
    if not _is_int(review_days) or not 0 <= review_days <= MAX_DAYS:
        errors["review_days"] = f"Use a whole number of days from 0 to {MAX_DAYS}."
    if not _is_int(review_expiry_hours) or not 1 <= review_expiry_hours <= 720:
        errors["review_expiry_hours"] = "Use a whole number of hours from 1 to 720 (30 days)."
    if not isinstance(submit_first, bool):
        errors["submit_first"] = "Say yes or no."
    if not isinstance(double_blind, bool):
        errors["double_blind"] = "Say yes or no."
    if results_after not in RESULTS_AFTER:
        errors["results_after"] = ("Choose when authors see their reviews: after their own "
                                   "reviews, or when the review window closes.")
    criteria = _clean_rubric(rubric, errors)
    if errors:
        raise Invalid(fields=errors)
    values = {"title": title, "instructions": instructions,
              "reviews_required": reviews_required, "submit_days": submit_days,
              "review_days": review_days, "review_expiry_hours": review_expiry_hours,
              "submit_first": submit_first, "results_after": results_after,
              "double_blind": double_blind}
    return values, criteria


def _build_criteria(criteria: list[dict]) -> list[RubricCriterion]:
    """New criterion and level rows from cleaned criteria."""
    return [
        RubricCriterion(position=c, title=criterion["title"],
                        description=criterion["description"],
                        levels=[RubricLevel(position=n, label=level["label"],
                                            points=level["points"])
                                for n, level in enumerate(criterion["levels"])])
        for c, criterion in enumerate(criteria)
    ]


def _copy_rubric(rubric: Rubric) -> Rubric:
    """A rubric of its own with the same criteria and levels."""
    return Rubric(criteria=[
        RubricCriterion(position=criterion.position, title=criterion.title,
                        description=criterion.description,
                        levels=[RubricLevel(position=level.position, label=level.label,
                                            points=level.points)
                                for level in criterion.levels])
        for criterion in rubric.criteria
    ])


def _rubric_as_input(rubric: Rubric) -> list[dict]:
    """A stored rubric in the shape services take (to notice whether an edit changed it)."""
    return [{"title": c.title, "description": c.description,
             "levels": [{"label": lv.label, "points": lv.points} for lv in c.levels]}
            for c in rubric.criteria]


# --- authoring ---------------------------------------------------------------------------------

def add_assignment(user: User, module_id: int, *, title: str, instructions: str = "",
                   rubric: RubricInput, **settings) -> Assignment:
    """Append a practice assignment with its rubric to a module of the user's program.

    ``settings`` are its review load and windows (``ASSIGNMENT_DEFAULTS`` names them); any
    left out take their default.
    """
    module = get_authoring_module(user, module_id)
    values, criteria = _clean_assignment(title=title, instructions=instructions, rubric=rubric,
                                         **{**ASSIGNMENT_DEFAULTS, **settings})
    with transaction() as session:
        lock_for_update(session, Module, module.id)  # positions are unique per module
        last = session.scalar(select(func.max(Assignment.position))
                              .where(Assignment.module_id == module.id))
        assignment = Assignment(module_id=module.id, position=0 if last is None else last + 1,
                                rubric=Rubric(criteria=_build_criteria(criteria)),
                                **values)
        session.add(assignment)
        session.flush()
        audit.record(session, user.id, "assignment.created", target_type="assignment",
                     target_id=assignment.id, module_id=module.id,
                     program_id=module.program_id)
    return assignment


def update_assignment(user: User, module_id: int, assignment_id: int, *, title: str,
                      instructions: str, rubric: RubricInput, reviews_required: int,
                      submit_days: int, review_days: int,
                      review_expiry_hours: int, submit_first: bool | None = None,
                      results_after: str | None = None,
                      double_blind: bool | None = None) -> Assignment:
    """Change an assignment; a changed rubric replaces this assignment's own rubric rows.
    Review settings left out (None) keep their stored values.

    Cohorts already launched review with their own copies and are not affected.
    """
    assignment = get_assignment_for(user, module_id, assignment_id)
    values, criteria = _clean_assignment(
        title=title, instructions=instructions, rubric=rubric,
        reviews_required=reviews_required, submit_days=submit_days, review_days=review_days,
        review_expiry_hours=review_expiry_hours,
        submit_first=assignment.submit_first if submit_first is None else submit_first,
        results_after=assignment.results_after if results_after is None else results_after,
        double_blind=assignment.double_blind if double_blind is None else double_blind)
    with transaction() as session:
        changed = sorted(name for name, value in values.items()
                         if getattr(assignment, name) != value)
        for name, value in values.items():
            setattr(assignment, name, value)
        if _rubric_as_input(assignment.rubric) != criteria:
            changed.append("rubric")
            # Old rows go first: (rubric_id, position) is unique.
            assignment.rubric.criteria.clear()
            session.flush()
            assignment.rubric.criteria.extend(_build_criteria(criteria))
        session.flush()
        audit.record(session, user.id, "assignment.updated", target_type="assignment",
                     target_id=assignment.id, module_id=module_id, changed=changed)
    return assignment


def delete_assignment(user: User, module_id: int, assignment_id: int) -> None:
    """Remove an assignment and its rubric; running cohorts keep their copies."""
    assignment = get_assignment_for(user, module_id, assignment_id)
    with transaction() as session:
        audit.record(session, user.id, "assignment.deleted", target_type="assignment",
                     target_id=assignment.id, module_id=module_id, title=assignment.title)
        rubric = assignment.rubric
        session.delete(assignment)
        session.flush()
        session.delete(rubric)
        session.flush()


# --- launch ------------------------------------------------------------------------------------

def copy_assignments_to_cohort(cohort: Cohort,
                               modules: dict[int, int]) -> list[CohortAssignment]:
    """Give a launching cohort its own copy of each assignment and rubric (the snapshot rule).

    ``modules`` maps program module ids to the cohort's module ids. Runs in the launch's
    transaction and only flushes; four queries read everything however many modules.
    """
    if not modules:
        return []
    session = get_session()
    assignments = session.scalars(
        select(Assignment).where(Assignment.module_id.in_(list(modules)))
        .options(selectinload(Assignment.rubric).selectinload(Rubric.criteria)
                 .selectinload(RubricCriterion.levels))
        .order_by(Assignment.module_id, Assignment.position)
    ).all()
    copies = [
        CohortAssignment(
            cohort_id=cohort.id, cohort_module_id=modules[assignment.module_id],
            assignment_id=assignment.id, position=assignment.position,
            rubric=_copy_rubric(assignment.rubric),
            **{name: getattr(assignment, name) for name in ASSIGNMENT_SETTINGS})
        for assignment in assignments
    ]
    session.add_all(copies)
    session.flush()
    return copies


def on_cohort_launched(cohort: Cohort, *, modules: dict[int, int], **_kwargs) -> None:
    """Receiver of ``cohort_launched``: copy the program's assignments into the new cohort."""
    copy_assignments_to_cohort(cohort, modules)


# --- module parts ------------------------------------------------------------------------------

def _rubric_totals(rubric_ids):
    """Per rubric among ``rubric_ids`` (a subquery of them): how many criteria, and the best
    possible score (a subquery). Limited to those rubrics, so its cost does not grow with
    every rubric on the site."""
    top = (select(RubricCriterion.rubric_id, func.max(RubricLevel.points).label("top"))
           .join(RubricLevel, RubricLevel.criterion_id == RubricCriterion.id)
           .where(RubricCriterion.rubric_id.in_(rubric_ids))
           .group_by(RubricCriterion.id, RubricCriterion.rubric_id).subquery())
    return (select(top.c.rubric_id, func.count().label("criteria"),
                   func.sum(top.c.top).label("points"))
            .group_by(top.c.rubric_id).subquery())


def _plural(n: int, one: str, many: str) -> str:
    """'1 criterion', '4 criteria'."""
    return f"{n} {one if n == 1 else many}"


def _review_fact(reviews_required: int, criteria: int, points: int) -> str:
    """'3 peer reviews each, 4 criteria, up to 12 points'."""
    return (f"{_plural(reviews_required, 'peer review', 'peer reviews')} each, "
            f"{_plural(criteria, 'criterion', 'criteria')}, "
            f"up to {_plural(points, 'point', 'points')}")


def assignment_dates(item: Assignment | CohortAssignment, release_at: datetime,
                     zone: str) -> tuple[tuple[str, datetime], ...]:
    """Submissions due after the module's release; reviews due after that (local days)."""
    submissions_due = days_after(release_at, item.submit_days, zone)
    return (("Submissions due", submissions_due),
            ("Reviews due", days_after(submissions_due, item.review_days, zone)))


@cache
def _cohort_assignments_statement():
    """The assignments of some cohort modules (``module_ids``) with their rubric totals and
    the viewer's part in each (``user_id``: their submission, reviews they submitted), built
    once: pages ask for it on every view, and building it cost more than running it."""
    module_ids = bindparam("module_ids", expanding=True)
    user_id = bindparam("user_id")
    totals = _rubric_totals(select(CohortAssignment.rubric_id)
                            .where(CohortAssignment.cohort_module_id.in_(module_ids)))
    mine = aliased(Submission)
    done = (select(func.count()).select_from(Review)
            .where(Review.cohort_assignment_id == CohortAssignment.id,
                   Review.reviewer_id == user_id, Review.status == "submitted")
            .scalar_subquery())
    return (select(CohortAssignment, totals.c.criteria, totals.c.points, mine.id, done)
            .outerjoin(totals, totals.c.rubric_id == CohortAssignment.rubric_id)
            .outerjoin(mine, and_(mine.cohort_assignment_id == CohortAssignment.id,
                                  mine.author_id == user_id))
            .where(CohortAssignment.cohort_module_id.in_(module_ids))
            .options(defer(CohortAssignment.instructions))  # pages show the stored HTML
            .order_by(CohortAssignment.cohort_module_id, CohortAssignment.position))


def _learner_facts(required: int, submitted: bool, reviews_done: int) -> tuple[str, ...]:
    """What a learner has done and still owes on an assignment."""
    owed = max(0, required - reviews_done)
    return ("You have submitted your work" if submitted else "Submit your work",
            f"You owe {_plural(owed, 'review', 'reviews')}" if owed
            else "Your reviews are done")


def _learner_todo(required: int, submitted: bool, reviews_done: int) -> str | None:
    """What the learner is asked to do next on an assignment, if anything."""
    if not submitted:
        return "Submit your work"
    return "Review a peer's work" if reviews_done < required else None


class PeerReviewParts:
    """Assignments on program modules and on cohort modules, for module pages."""

    def parts_of_modules(self, modules: list[Module]) -> list[ModulePart]:
        """Each assignment with its review load and windows, linking to its edit page."""
        if not modules:
            return []
        module_ids = [m.id for m in modules]
        totals = _rubric_totals(select(Assignment.rubric_id)
                                .where(Assignment.module_id.in_(module_ids)))
        rows = get_session().execute(
            select(Assignment, totals.c.criteria, totals.c.points)
            .outerjoin(totals, totals.c.rubric_id == Assignment.rubric_id)
            .where(Assignment.module_id.in_(module_ids))
            .order_by(Assignment.module_id, Assignment.position)
        ).all()
        parts = []
        for assignment, criteria, points in rows:
            due = ("Submissions due when the module opens" if assignment.submit_days == 0 else
                   f"Submissions due {_plural(assignment.submit_days, 'day', 'days')} "
                   "after the module opens")
            parts.append(ModulePart(
                kind="assignment", id=assignment.id, module_id=assignment.module_id,
                position=assignment.position, title=assignment.title,
                body_html=assignment.instructions_html,
                link=Link.to("peer_review.edit_assignment", module_id=assignment.module_id,
                             assignment_id=assignment.id),
                facts=(_review_fact(assignment.reviews_required, criteria or 0, points or 0),
                       due,
                       f"Reviews due {_plural(assignment.review_days, 'day', 'days')} later"),
            ))
        return parts

    def parts_of_cohort_modules(self, viewer: CohortAccess,
                                modules: list[CohortModule]) -> list[ModulePart]:
        """Each assignment of the cohort's modules, with its due dates in the cohort's zone."""
        return self.parts_of_many_cohorts([(viewer, modules)])

    def parts_of_many_cohorts(self, groups: list[tuple[CohortAccess, list[CohortModule]]]
                              ) -> list[ModulePart]:
        """Assignments of several cohorts' modules in one query, with what the viewer has
        still to do in each when they are a learner ("Submit your work", "You owe 2
        reviews")."""
        placed = {m.id: (viewer, m) for viewer, modules in groups for m in modules}
        if not placed:
            return []
        user_id = groups[0][0].user.id  # one viewer, in one or several cohorts
        rows = get_session().execute(_cohort_assignments_statement(),
                                     {"module_ids": list(placed), "user_id": user_id}).all()
        parts = []
        for assignment, criteria, points, submission_id, reviews_done in rows:
            viewer, module = placed[assignment.cohort_module_id]
            dates = assignment_dates(assignment, module.release_at, viewer.cohort.timezone)
            facts = (_review_fact(assignment.reviews_required, criteria or 0, points or 0),)
            todo = None
            if viewer.role == "learner":
                facts += _learner_facts(assignment.reviews_required, submission_id is not None,
                                        reviews_done or 0)
                todo = _learner_todo(assignment.reviews_required, submission_id is not None,
                                     reviews_done or 0)
            parts.append(ModulePart(
                kind="assignment", id=assignment.id, module_id=assignment.cohort_module_id,
                position=assignment.position, title=assignment.title,
                body_html=assignment.instructions_html,
                facts=facts, todo=todo,
                dates=dates, due_at=dates[0][1],
                link=Link.to("peer_work.assignment", assignment_id=assignment.id),
            ))
        return parts


provider = PeerReviewParts()
