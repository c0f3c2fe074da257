"""A launch copies every setting of a prompt and an assignment, and nothing is listed twice.

Prompt/Thread and Assignment/CohortAssignment declare their settings through one mixin each
(PromptSettings, AssignmentSettings); the copy at launch takes the mixin's columns. So a new
setting is one change: these tests fail if a column is shared outside the mixin, if the copy
misses one, or if a default is written somewhere other than its one place.
"""

from datetime import UTC, date, datetime

from sqlalchemy import inspect, select

from app.cohorts.authoring import launch_cohort
from app.discussions import forms as discussion_forms
from app.discussions import services as discussions
from app.discussions.models import PROMPT_DEFAULTS, PROMPT_SETTINGS, Prompt, Thread
from app.peer_review import forms as review_forms
from app.peer_review import services as peer_review
from app.peer_review.models import (
    ASSIGNMENT_DEFAULTS,
    ASSIGNMENT_SETTINGS,
    Assignment,
    CohortAssignment,
)
from app.sanitize import render_html

NOW = datetime(2026, 3, 1, tzinfo=UTC)
#: What each copy adds of its own, beside the settings: where it sits and where it came from.
PLACEMENT = {"id", "position", "rubric_id"}
RUBRIC = [{"title": "Clarity", "description": "",
           "levels": [{"label": "Unclear", "points": 0}, {"label": "Clear", "points": 2}]}]


def _columns(model) -> set[str]:
    """The column names of a model's table."""
    return {column.key for column in inspect(model).columns}


def test_prompts_and_threads_share_exactly_the_prompt_settings():
    assert (_columns(Prompt) & _columns(Thread)) - PLACEMENT == set(PROMPT_SETTINGS)


def test_assignments_and_their_copies_share_exactly_the_assignment_settings():
    assert (_columns(Assignment) & _columns(CohortAssignment)) - PLACEMENT == \
        set(ASSIGNMENT_SETTINGS)


def test_launch_copies_every_prompt_and_assignment_setting(app, db, authoring):
    owner = authoring.people["owner"]
    # A value unlike its default for every setting, so a setting the copy missed shows.
    prompt_values = {"title": "What did you notice?", "body": "Think of **one** meeting.",
                     "anonymity_allowed": False, "respond_after_days": 3,
                     "synthesize_after_days": 6, "close_after_days": 9, "min_replies": 4}
    assignment_values = {"title": "Practise a hard conversation",
                         "instructions": "Write **what** you would say.",
                         "reviews_required": 2, "submit_days": 5, "review_days": 3,
                         "review_expiry_hours": 24, "submit_first": False,
                         "results_after": "window_closed", "double_blind": False}
    # The stored HTML is derived from the Markdown when it is written, and copied with it.
    assert set(prompt_values) == set(PROMPT_SETTINGS) - {"body_html"}
    assert set(assignment_values) == set(ASSIGNMENT_SETTINGS) - {"instructions_html"}
    assert all(prompt_values[name] != default for name, default in PROMPT_DEFAULTS.items())
    assert all(assignment_values[name] != default
               for name, default in ASSIGNMENT_DEFAULTS.items())
    with app.app_context():
        discussions.add_prompt(owner, authoring.module_id, **prompt_values)
        peer_review.add_assignment(owner, authoring.module_id, rubric=RUBRIC,
                                   **assignment_values)
        cohort = launch_cohort(owner, authoring.program_id, name="Spring",
                               starts_on=date(2026, 3, 2), timezone="Europe/Berlin",
                               anonymity="peers", now=NOW)
    with db() as session:
        thread = session.scalar(select(Thread).where(Thread.cohort_id == cohort.id))
        copy = session.scalar(select(CohortAssignment)
                              .where(CohortAssignment.cohort_id == cohort.id))
        assert {name: getattr(thread, name) for name in PROMPT_SETTINGS} == {
            **prompt_values, "body_html": render_html(prompt_values["body"])}
        assert {name: getattr(copy, name) for name in ASSIGNMENT_SETTINGS} == {
            **assignment_values,
            "instructions_html": render_html(assignment_values["instructions"])}


def test_every_default_comes_from_its_one_place(app, openapi):
    schemas = openapi["components"]["schemas"]
    assert schemas["PromptIn"]["properties"]["min_replies"]["default"] == \
        PROMPT_DEFAULTS["min_replies"]
    assert schemas["PromptIn"]["properties"]["anonymity_allowed"]["default"] == \
        PROMPT_DEFAULTS["anonymity_allowed"]
    respond, synthesize, close = (PROMPT_DEFAULTS[name] for name in discussions.STAGE_FIELDS)
    assert f"default {respond}, {synthesize} and {close} days" in \
        schemas["PromptIn"]["properties"]["stages"]["description"]
    assert schemas["AssignmentIn"]["properties"]["review_expiry_hours"]["default"] == \
        ASSIGNMENT_DEFAULTS["review_expiry_hours"]
    for name, default in PROMPT_DEFAULTS.items():
        assert Prompt.__table__.c[name].default.arg == default
        assert Thread.__table__.c[name].default.arg == default
    for name, default in ASSIGNMENT_DEFAULTS.items():
        assert Assignment.__table__.c[name].default.arg == default
        assert CohortAssignment.__table__.c[name].default.arg == default
    with app.test_request_context():
        prompt_form = discussion_forms.PromptForm(meta={"csrf": False})
        assignment_form = review_forms.AssignmentForm(meta={"csrf": False})
        assert {name: getattr(prompt_form, name).data for name in PROMPT_DEFAULTS} == \
            PROMPT_DEFAULTS
        assert {name: getattr(assignment_form, name).data for name in ASSIGNMENT_DEFAULTS} == \
            ASSIGNMENT_DEFAULTS


def test_a_prompt_added_without_settings_takes_the_defaults(app, authoring):
    with app.app_context():
        prompt = discussions.add_prompt(authoring.people["owner"], authoring.module_id,
                                        title="Reflect")
        assert {name: getattr(prompt, name) for name in PROMPT_DEFAULTS} == PROMPT_DEFAULTS
