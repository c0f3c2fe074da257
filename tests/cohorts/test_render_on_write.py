"""Render on write: Markdown is cleaned into HTML when it is saved, and pages and the API only
read the stored HTML (they never parse Markdown or HTML)."""

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from app import sanitize
from app.cohorts.authoring import add_module, create_program, launch_cohort, update_module
from app.cohorts.models import CohortModule, Module
from app.cohorts.roster import add_member
from app.db import utcnow
from app.discussions import services as discussions
from app.discussions.models import Prompt, Thread
from app.peer_review import services as peer_review
from app.peer_review.models import Assignment, CohortAssignment
from tests.factories import create_user
from tests.http import bearer, token_for

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNSAFE = "**Hello** <script>alert(1)</script> see https://example.com"
RUBRIC = [{"title": "Specific", "description": "",
           "levels": [{"label": "No", "points": 0}, {"label": "Yes", "points": 1}]}]


def _cleaned(html: str) -> bool:
    """The stored HTML of UNSAFE: bold kept, the script escaped, the link made and marked."""
    return ("<strong>Hello</strong>" in html and "<script>" not in html
            and 'href="https://example.com" rel="nofollow noopener ugc"' in html)


@pytest.fixture
def authored(app, db):
    """A program whose module, prompt and assignment hold UNSAFE, launched with a learner."""
    with db() as session:
        owner = create_user(session, can_own_programs=True)
        learner = create_user(session)
        token = token_for(session, learner)
    with app.app_context():
        program = create_program(owner, title="P", now=NOW)
        module = add_module(owner, program.id, title="Week 1", body=UNSAFE)
        discussions.add_prompt(owner, module.id, title="Talk", body=UNSAFE)
        peer_review.add_assignment(owner, module.id, title="Do", instructions=UNSAFE,
                                   rubric=RUBRIC)
        today = utcnow()
        cohort = launch_cohort(owner, program.id, name="C",
                               starts_on=(today - timedelta(days=1)).date(),
                               timezone="UTC", anonymity="off", now=today)
        add_member(owner, cohort.id, email=learner.email, role="learner", now=today)
    return {"owner": owner, "learner": learner, "token": token, "program": program.id,
            "module": module.id, "cohort": cohort.id}


def test_saving_markdown_stores_its_cleaned_html(app, db, authored):
    with db() as session:
        for model, html in ((Module, Module.body_html), (Prompt, Prompt.body_html),
                            (Assignment, Assignment.instructions_html)):
            assert _cleaned(session.scalar(select(html))), model


def test_editing_markdown_renders_again(app, db, authored):
    with app.app_context():
        update_module(authored["owner"], authored["module"], title="Week 1", body="*Changed*",
                      release_offset_days=0, release_time=datetime.min.time())
    with db() as session:
        assert session.get(Module, authored["module"]).body_html == "<p><em>Changed</em></p>\n"


def test_launch_copies_the_stored_html_without_rendering_again(app, db, monkeypatch):
    with db() as session:
        owner = create_user(session, can_own_programs=True)
    with app.app_context():
        program = create_program(owner, title="P", now=NOW)
        module = add_module(owner, program.id, title="Week 1", body=UNSAFE)
        discussions.add_prompt(owner, module.id, title="Talk", body=UNSAFE)
        peer_review.add_assignment(owner, module.id, title="Do", instructions=UNSAFE,
                                   rubric=RUBRIC)
    with db() as session:  # what is stored is what is copied, whatever the Markdown says
        for model in (Module, Prompt):
            session.execute(update(model).values(body_html="<p>stored</p>"))
        session.execute(update(Assignment).values(instructions_html="<p>stored</p>"))
    monkeypatch.setattr(sanitize, "_renderer", _refuse)
    with app.app_context():
        launch_cohort(owner, program.id, name="C", starts_on=NOW.date(), timezone="UTC",
                      anonymity="off", now=NOW)
    with db() as session:
        assert session.scalar(select(CohortModule.body_html)) == "<p>stored</p>"
        assert session.scalar(select(Thread.body_html)) == "<p>stored</p>"
        assert session.scalar(select(CohortAssignment.instructions_html)) == "<p>stored</p>"


def _refuse(*_args):
    """Stands in for the renderer where nothing may render."""
    raise AssertionError("rendered Markdown on read")


def test_pages_and_the_api_never_render(app, db, client, login, authored, monkeypatch):
    with db() as session:
        cohort_module = session.scalar(select(CohortModule.id))
    login(client, authored["learner"])
    monkeypatch.setattr(sanitize, "_renderer", _refuse)
    page = client.get(f"/cohorts/{authored['cohort']}/modules/{cohort_module}")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("<strong>Hello</strong>") == 3  # body, thread, task
    assert "<script>" not in page.get_data(as_text=True)
    assert client.get(f"/cohorts/{authored['cohort']}").status_code == 200
    assert client.get("/").status_code == 200
    listing = client.get(f"/api/v1/cohorts/{authored['cohort']}/modules",
                         headers=bearer(authored["token"]))
    assert listing.status_code == 200
    item = listing.get_json()["items"][0]
    assert _cleaned(item["body_html"])
    assert _cleaned(item["threads"][0]["body_html"])
    assert _cleaned(item["assignments"][0]["body_html"])
    owner = app.test_client()
    login(owner, authored["owner"])
    preview = owner.get(f"/programs/{authored['program']}/modules/{authored['module']}/preview")
    assert preview.status_code == 200
    assert preview.get_data(as_text=True).count("<strong>Hello</strong>") == 3


def test_rerendering_rewrites_only_html_made_by_other_rules(app, db, authored, monkeypatch):
    with app.app_context():
        assert sanitize.rerender_all() == 0  # everything is current
    with db() as session:
        session.execute(update(Thread).values(body_html="<p>old rules</p>"))
        session.execute(update(Module).values(body_html="<script>old</script>"))
    with app.app_context():
        assert sanitize.rerender_all() == 2
    with db() as session:
        assert _cleaned(session.scalar(select(Thread.body_html)))
        assert _cleaned(session.scalar(select(Module.body_html)))


def test_flask_content_rerender(app, db, authored):
    with db() as session:
        session.execute(update(CohortAssignment).values(instructions_html=""))
    result = CliRunner().invoke(app.cli, ["content", "rerender"], obj=_script_info(app))
    assert result.exit_code == 0, result.output
    assert "1 stored HTML text(s) changed" in result.output
    with db() as session:
        assert _cleaned(session.scalar(select(CohortAssignment.instructions_html)))


def _script_info(app):
    """Click's context object for running the app's commands in-process."""
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)
