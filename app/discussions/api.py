"""Discussion endpoints of the JSON API: a program owner's prompts."""

from flask import Blueprint
from pydantic import Field

from app.api import ResponseSchema, Schema, endpoint
from app.discussions import services
from app.discussions.models import PROMPT_DEFAULTS
from app.errors import Invalid

bp = Blueprint("discussions_api", __name__, url_prefix="/api/v1")


class StagesIn(Schema):
    """Days after the module's release at which each stage opens (reflect opens at release)."""

    respond_after_days: int = Field(description="Replies open (0–365).")
    synthesize_after_days: int = Field(description="Synthesis opens (not before replies).")
    close_after_days: int = Field(description="The thread closes (not before synthesis).")


class PromptIn(Schema):
    """A discussion prompt of a module."""

    title: str = Field(description="1 to 200 characters.")
    body: str = Field(default="", description="Markdown.")
    anonymity_allowed: bool = Field(
        default=PROMPT_DEFAULTS["anonymity_allowed"],
        description="Learners may post anonymously where the cohort allows it.")
    stages: StagesIn | None = Field(
        default=None, description="Stage offsets; default {respond_after_days}, "
        "{synthesize_after_days} and {close_after_days} days.".format(**PROMPT_DEFAULTS))
    min_replies: int = Field(default=PROMPT_DEFAULTS["min_replies"],
                             description="Replies to peers before a learner's own synthesis "
                                         "opens (0–20).")


class StagesOut(ResponseSchema):
    """Days after the module's release at which each stage opens."""

    respond_after_days: int
    synthesize_after_days: int
    close_after_days: int


class PromptOut(ResponseSchema):
    """A discussion prompt as its program's owner sees it."""

    id: int
    module_id: int
    position: int
    title: str
    body: str
    anonymity_allowed: bool
    stages: StagesOut
    min_replies: int


def _present(prompt) -> PromptOut:
    """The prompt in its API shape."""
    return PromptOut(
        id=prompt.id, module_id=prompt.module_id, position=prompt.position,
        title=prompt.title, body=prompt.body, anonymity_allowed=prompt.anonymity_allowed,
        stages=StagesOut(respond_after_days=prompt.respond_after_days,
                         synthesize_after_days=prompt.synthesize_after_days,
                         close_after_days=prompt.close_after_days),
        min_replies=prompt.min_replies)


def _fields(body: PromptIn) -> dict:
    """The service's keyword arguments from a request body."""
    stages = body.stages.model_dump() if body.stages else {}
    return {"title": body.title, "body": body.body,
            "anonymity_allowed": body.anonymity_allowed, "min_replies": body.min_replies,
            **stages}


def _request_paths(error: Invalid) -> Invalid:
    """Name stage errors by where they sit in the request (``stages.close_after_days``)."""
    error.fields = {(f"stages.{key}" if key in services.STAGE_FIELDS else key): message
                    for key, message in error.fields.items()}
    return error


@endpoint(bp, "/modules/<int:module_id>/prompts", "POST", body=PromptIn, response=PromptOut,
          status=201, errors=(403, 404), summary="Add a discussion prompt to a module (owner)")
def add_prompt(user, module_id: int, body: PromptIn):
    """Append a prompt to a module of my program."""
    try:
        return _present(services.add_prompt(user, module_id, **_fields(body)))
    except Invalid as error:
        raise _request_paths(error) from None


@endpoint(bp, "/modules/<int:module_id>/prompts/<int:prompt_id>", "PUT", body=PromptIn,
          response=PromptOut, errors=(403, 404),
          summary="Replace a discussion prompt (owner; running cohorts keep their copy)")
def update_prompt(user, module_id: int, prompt_id: int, body: PromptIn):
    """Change a prompt of my program."""
    try:
        return _present(services.update_prompt(user, module_id, prompt_id, **_fields(body)))
    except Invalid as error:
        raise _request_paths(error) from None


@endpoint(bp, "/modules/<int:module_id>/prompts/<int:prompt_id>", "DELETE", status=204,
          errors=(403, 404),
          summary="Delete a discussion prompt (owner; running cohorts keep their threads)")
def delete_prompt(user, module_id: int, prompt_id: int):
    """Remove a prompt from my program."""
    services.delete_prompt(user, module_id, prompt_id)
