"""Assignment pages: the rubric builder without JavaScript, errors, CSRF and access."""

import re

import pytest
from sqlalchemy import select

from app.peer_review import services
from app.peer_review.models import Assignment
from tests.peer_review.conftest import NOT_OWNERS

FORM = {
    "title": "Give feedback", "instructions": "Write **one** paragraph.",
    "criteria-0-title": "Specific", "criteria-0-description": "Names what happened.",
    "criteria-0-levels-0-label": "Vague", "criteria-0-levels-0-points": "0",
    "criteria-0-levels-1-label": "Concrete", "criteria-0-levels-1-points": "3",
    "reviews_required": "2", "submit_days": "5", "review_days": "3",
    "review_expiry_hours": "24",
}


def _values(page: str, name: str) -> str | None:
    """The value an input named ``name`` shows."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _assignment(app, authoring, **fields):
    """An assignment of the module, added by its owner."""
    with app.app_context():
        return services.add_assignment(authoring.people["owner"], authoring.module_id, **{
            "title": "Practise", "rubric": [{"title": "Clarity", "levels": [
                {"label": "Unclear", "points": 0}, {"label": "Clear", "points": 2}]}],
            **fields})


def test_the_new_page_is_labelled_and_loads_the_builder_script(client, login, authoring):
    login(client, authoring.people["owner"])
    page = client.get(f"/modules/{authoring.module_id}/assignments/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<legend data-rubric-text="Criterion {c}">Criterion 1</legend>' in text
    for name in ("criteria-0-title", "criteria-0-levels-2-label", "criteria-0-levels-2-points"):
        assert f'for="{name}"' in text and f'id="{name}"' in text
    assert "Criterion 1, level 3: points" in text
    assert "/static/js/rubric.js" in text and "onclick" not in text
    assert "<script>" not in text
    assert f'href="/programs/{authoring.program_id}"' in text
    assert client.get("/static/js/rubric.js").status_code == 200


def test_without_javascript_the_builder_buttons_keep_what_was_typed(client, login, authoring):
    login(client, authoring.people["owner"])
    path = f"/modules/{authoring.module_id}/assignments/new"
    added = client.post_form(path, {**FORM, "action": "add_criterion"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200
    assert _values(page, "title") == "Give feedback"
    assert _values(page, "criteria-0-title") == "Specific"
    assert _values(page, "criteria-0-levels-1-points") == "3"
    # The new criterion starts with the levels of the one before it, and gets the focus.
    assert _values(page, "criteria-1-title") == ""
    assert _values(page, "criteria-1-levels-1-label") == "Concrete"
    assert re.search(r'<input[^>]*autofocus[^>]*name="criteria-1-title"', page)
    assert "Criterion 2" in page
    # Add a level to the second criterion, then remove the first criterion.
    data = {**FORM, "criteria-1-title": "Kind", "criteria-1-levels-0-label": "Harsh",
            "criteria-1-levels-0-points": "0", "criteria-1-levels-1-label": "Warm",
            "criteria-1-levels-1-points": "nine"}
    page = client.post_form(path, {**data, "action": "add_level:1"}).get_data(as_text=True)
    assert _values(page, "criteria-1-levels-2-label") == ""
    assert _values(page, "criteria-1-levels-1-points") == "nine"  # typed text is kept
    page = client.post_form(path, {**data, "action": "remove_criterion:0"}).get_data(
        as_text=True)
    assert _values(page, "criteria-0-title") == "Kind"
    assert _values(page, "criteria-1-title") is None
    page = client.post_form(path, {**FORM, "action": "remove_level:0:0"}).get_data(
        as_text=True)
    assert "at least 2 levels" in page and _values(page, "criteria-0-levels-1-label") == (
        "Concrete")


def test_saving_creates_the_assignment_and_returns_to_the_program(app, db, client, login,
                                                                  authoring):
    login(client, authoring.people["owner"])
    response = client.post_form(f"/modules/{authoring.module_id}/assignments/new", FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/programs/{authoring.program_id}#module-{authoring.module_id}")
    with db() as session:
        assignment = session.scalars(select(Assignment)).one()
        assert (assignment.title, assignment.reviews_required, assignment.review_days) == (
            "Give feedback", 2, 3)
        assert [(lv.label, lv.points) for lv in assignment.rubric.criteria[0].levels] == [
            ("Vague", 0), ("Concrete", 3)]


def test_rubric_errors_sit_next_to_their_inputs(app, db, client, login, authoring):
    login(client, authoring.people["owner"])
    response = client.post_form(f"/modules/{authoring.module_id}/assignments/new", {
        **FORM, "criteria-0-levels-1-label": "", "criteria-0-levels-1-points": "-2",
        "reviews_required": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="criteria-0-levels-1-points-error"' in page
    assert "Give level 2 of criterion 1 a whole number of points" in page
    assert 'id="criteria-0-levels-1-label-error"' in page
    assert 'id="reviews_required-error"' in page
    assert _values(page, "criteria-0-title") == "Specific"
    with db() as session:
        assert session.scalars(select(Assignment)).all() == []


def test_the_owner_edits_then_deletes_an_assignment(app, db, client, login, authoring):
    assignment = _assignment(app, authoring)
    login(client, authoring.people["owner"])
    edit = f"/modules/{authoring.module_id}/assignments/{assignment.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert _values(page, "criteria-0-levels-1-label") == "Clear"
    assert client.post_form(edit, FORM).status_code == 302
    with db() as session:
        stored = session.get(Assignment, assignment.id)
        assert [c.title for c in stored.rubric.criteria] == ["Specific"]
    delete = f"/modules/{authoring.module_id}/assignments/{assignment.id}/delete"
    assert client.post_form(delete, {}).status_code == 302
    with db() as session:
        assert session.get(Assignment, assignment.id) is None


def test_posts_without_a_csrf_token_are_refused(app, db, client, login, authoring):
    assignment = _assignment(app, authoring)
    login(client, authoring.people["owner"])
    base = f"/modules/{authoring.module_id}/assignments"
    for path in (f"{base}/new", f"{base}/{assignment.id}/edit",
                 f"{base}/{assignment.id}/delete"):
        assert client.post(path, data=FORM).status_code == 400
    with db() as session:
        assert [a.title for a in session.scalars(select(Assignment))] == ["Practise"]


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_only_the_owner_reaches_assignment_pages(app, db, client, login, authoring, role):
    assignment = _assignment(app, authoring)
    base = f"/modules/{authoring.module_id}/assignments"
    paths = (f"{base}/new", f"{base}/{assignment.id}/edit", f"{base}/{assignment.id}/delete")
    for path in paths:
        assert client.get(path).status_code == 302  # anonymous: to the sign-in page
    login(client, authoring.people[role])
    for path in paths:
        assert client.get(path).status_code == 404, path
        assert client.post_form(path, FORM, token_from="/").status_code == 404, path
    with db() as session:
        assert [a.title for a in session.scalars(select(Assignment))] == ["Practise"]
