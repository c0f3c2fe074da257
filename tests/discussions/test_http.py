"""Prompt pages: the owner's forms, their errors, CSRF, and nobody else's access."""

import pytest
from sqlalchemy import select

from app.discussions import services
from app.discussions.models import Prompt
from tests.discussions.conftest import NOT_OWNERS

FORM = {"title": "What did you notice?", "body": "Think of a meeting.",
        "anonymity_allowed": "y", "respond_after_days": "1", "synthesize_after_days": "3",
        "close_after_days": "6", "min_replies": "2"}


def _prompt(app, authoring, **fields):
    """A prompt of the module, added by its owner."""
    with app.app_context():
        return services.add_prompt(authoring.people["owner"], authoring.module_id,
                                   **{"title": "Reflect", **fields})


def test_the_owner_adds_a_prompt_and_returns_to_the_program(app, db, client, login,
                                                            authoring):
    login(client, authoring.people["owner"])
    path = f"/modules/{authoring.module_id}/prompts/new"
    page = client.get(path).get_data(as_text=True)
    assert 'for="title"' in page and 'for="respond_after_days"' in page
    assert f'href="/programs/{authoring.program_id}"' in page
    response = client.post_form(path, FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/programs/{authoring.program_id}#module-{authoring.module_id}")
    with db() as session:
        prompt = session.scalars(select(Prompt)).one()
        assert (prompt.title, prompt.respond_after_days, prompt.close_after_days,
                prompt.anonymity_allowed) == ("What did you notice?", 1, 6, True)


def test_errors_appear_next_to_their_fields_and_keep_what_was_typed(app, db, client, login,
                                                                    authoring):
    login(client, authoring.people["owner"])
    path = f"/modules/{authoring.module_id}/prompts/new"
    response = client.post_form(path, {**FORM, "synthesize_after_days": "9"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="close_after_days-error"' in page and "before synthesis opens" in page
    assert 'aria-invalid="true"' in page and 'value="What did you notice?"' in page
    response = client.post_form(path, {**FORM, "min_replies": "two"})
    assert response.status_code == 422
    assert "whole number of replies" in response.get_data(as_text=True)
    with db() as session:
        assert session.scalars(select(Prompt)).all() == []


def test_posts_without_a_csrf_token_are_refused(app, db, client, login, authoring):
    login(client, authoring.people["owner"])
    prompt = _prompt(app, authoring)
    base = f"/modules/{authoring.module_id}/prompts"
    for path in (f"{base}/new", f"{base}/{prompt.id}/edit", f"{base}/{prompt.id}/delete"):
        assert client.post(path, data=FORM).status_code == 400
    with db() as session:
        assert [p.title for p in session.scalars(select(Prompt))] == ["Reflect"]


def test_the_owner_edits_then_deletes_a_prompt(app, db, client, login, authoring):
    prompt = _prompt(app, authoring, min_replies=4)
    login(client, authoring.people["owner"])
    edit = f"/modules/{authoring.module_id}/prompts/{prompt.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="Reflect"' in page and 'value="4"' in page
    assert client.post_form(edit, {**FORM, "title": "Renamed"}).status_code == 302
    with db() as session:
        assert session.get(Prompt, prompt.id).title == "Renamed"
    delete = f"/modules/{authoring.module_id}/prompts/{prompt.id}/delete"
    assert "Delete the prompt" in client.get(delete).get_data(as_text=True)
    assert client.post_form(delete, {}).status_code == 302
    with db() as session:
        assert session.get(Prompt, prompt.id) is None


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_the_owner_reaches_prompt_pages(app, db, client, login, authoring, role):
    prompt = _prompt(app, authoring)
    base = f"/modules/{authoring.module_id}/prompts"
    paths = (f"{base}/new", f"{base}/{prompt.id}/edit", f"{base}/{prompt.id}/delete")
    for path in paths:
        assert client.get(path).status_code == 302  # anonymous: to the sign-in page
    login(client, authoring.people[role])
    for path in paths:
        assert client.get(path).status_code == 404, path
        assert client.post_form(path, FORM, token_from="/").status_code == 404, path
    with db() as session:
        assert [p.title for p in session.scalars(select(Prompt))] == ["Reflect"]
