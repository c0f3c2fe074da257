"""Peer review endpoints of the JSON API: a program owner's practice assignments."""

import re
from typing import Literal

from flask import Blueprint
from pydantic import Field

from app.api import ResponseSchema, Schema, endpoint
from app.errors import Invalid
from app.peer_review import services
from app.peer_review.models import ASSIGNMENT_DEFAULTS

bp = Blueprint("peer_review_api", __name__, url_prefix="/api/v1")


class LevelIn(Schema):
    """One level of a criterion."""

    label: str = Field(description="What this level looks like (1–200 characters).")
    points: int = Field(description="Whole points, 0 or more.")


class CriterionIn(Schema):
    """One criterion of a rubric with its levels (2 to 6)."""

    criterion: str = Field(description="What is judged (1–200 characters).")
    description: str = Field(default="", description="Guidance for reviewers.")
    levels: list[LevelIn]


class AssignmentIn(Schema):
    """A practice assignment of a module with its rubric (1 to 12 criteria)."""

    title: str = Field(description="1 to 200 characters.")
    instructions: str = Field(default="", description="Markdown.")
    rubric: list[CriterionIn]
    reviews_required: int = Field(description="Peer reviews each submission gets (1–10).")
    submit_days: int = Field(description="Submissions are due this many days after the "
                                         "module's release (0–365).")
    review_days: int = Field(description="Reviews are due this many days after submissions "
                                         "are due (0–365).")
    review_expiry_hours: int = Field(default=ASSIGNMENT_DEFAULTS["review_expiry_hours"],
                                     description="An unfinished review goes back "
                                                             "to the pool after this (1–720).")
    submit_first: bool = Field(default=ASSIGNMENT_DEFAULTS["submit_first"],
                               description="Learners submit before they may review.")
    results_after: Literal["reviews_done", "window_closed"] = Field(
        default=ASSIGNMENT_DEFAULTS["results_after"],
        description="When authors see their reviews: once they have done their own "
                    "(at the latest when the review window closes), or when it closes.")
    double_blind: bool = Field(default=ASSIGNMENT_DEFAULTS["double_blind"],
                               description="Reviewers and authors do not see each other's "
                                           "names; facilitators see both.")


class LevelOut(ResponseSchema):
    """One level of a criterion."""

    id: int
    label: str
    points: int


class CriterionOut(ResponseSchema):
    """One criterion with its levels, in order."""

    id: int
    criterion: str
    description: str
    levels: list[LevelOut]


class AssignmentOut(ResponseSchema):
    """A practice assignment with its rubric, as its program's owner sees it."""

    id: int
    module_id: int
    position: int
    title: str
    instructions: str
    rubric: list[CriterionOut]
    max_points: int
    reviews_required: int
    submit_days: int
    review_days: int
    review_expiry_hours: int
    submit_first: bool
    results_after: str
    double_blind: bool


def _present(assignment) -> AssignmentOut:
    """The assignment in its API shape."""
    rubric = [
        CriterionOut(id=c.id, criterion=c.title, description=c.description,
                     levels=[LevelOut(id=lv.id, label=lv.label, points=lv.points)
                             for lv in c.levels])
        for c in assignment.rubric.criteria
    ]
    return AssignmentOut(
        id=assignment.id, module_id=assignment.module_id, position=assignment.position,
        title=assignment.title, instructions=assignment.instructions, rubric=rubric,
        max_points=services.max_points(assignment.rubric),
        reviews_required=assignment.reviews_required, submit_days=assignment.submit_days,
        review_days=assignment.review_days,
        review_expiry_hours=assignment.review_expiry_hours,
        submit_first=assignment.submit_first, results_after=assignment.results_after,
        double_blind=assignment.double_blind)


def _fields(body: AssignmentIn) -> dict:
    """The service's keyword arguments from a request body."""
    values = body.model_dump(exclude={"rubric"})
    values["rubric"] = [
        {"title": c.criterion, "description": c.description,
         "levels": [level.model_dump() for level in c.levels]}
        for c in body.rubric
    ]
    return values


_CRITERION_TITLE = re.compile(r"^(rubric\.\d+)\.title$")


def _request_paths(error: Invalid) -> Invalid:
    """Name rubric errors by the request's field names (``rubric.0.criterion``)."""
    error.fields = {_CRITERION_TITLE.sub(r"\1.criterion", key): message
                    for key, message in error.fields.items()}
    return error


@endpoint(bp, "/modules/<int:module_id>/assignments", "POST", body=AssignmentIn,
          response=AssignmentOut, status=201, errors=(403, 404),
          summary="Add a practice assignment with its rubric to a module (owner)")
def add_assignment(user, module_id: int, body: AssignmentIn):
    """Append an assignment to a module of my program."""
    try:
        return _present(services.add_assignment(user, module_id, **_fields(body)))
    except Invalid as error:
        raise _request_paths(error) from None


@endpoint(bp, "/modules/<int:module_id>/assignments/<int:assignment_id>", "PUT",
          body=AssignmentIn, response=AssignmentOut, errors=(403, 404),
          summary="Replace a practice assignment and its rubric (owner; running cohorts "
                  "keep their copy)")
def update_assignment(user, module_id: int, assignment_id: int, body: AssignmentIn):
    """Change an assignment of my program."""
    try:
        return _present(services.update_assignment(user, module_id, assignment_id,
                                                   **_fields(body)))
    except Invalid as error:
        raise _request_paths(error) from None


@endpoint(bp, "/modules/<int:module_id>/assignments/<int:assignment_id>", "DELETE",
          status=204, errors=(403, 404),
          summary="Delete a practice assignment (owner; running cohorts keep their copy)")
def delete_assignment(user, module_id: int, assignment_id: int):
    """Remove an assignment from my program."""
    services.delete_assignment(user, module_id, assignment_id)
