"""POST/PUT/DELETE /api/v1/modules/{id}/assignments: assignments with rubrics via the API."""

import pytest
from sqlalchemy import func, select

from app.peer_review.models import Assignment, Rubric
from tests.peer_review.conftest import NOT_OWNERS

ASSIGNMENT = {
    "title": "Give feedback", "instructions": "One paragraph.",
    "rubric": [
        {"criterion": "Specific", "levels": [{"label": "Vague", "points": 0},
                                             {"label": "Concrete", "points": 3}]},
        {"criterion": "Kind", "description": "Warm in tone.",
         "levels": [{"label": "Harsh", "points": 0}, {"label": "Warm", "points": 1},
                    {"label": "Encouraging", "points": 2}]},
    ],
    "reviews_required": 3, "submit_days": 5, "review_days": 2,
}


def test_the_owner_adds_changes_and_deletes_an_assignment(call, client, db, authoring, tokens):
    path = f"/api/v1/modules/{authoring.module_id}/assignments"
    created = call(client, "POST", path, json=ASSIGNMENT, headers=tokens["owner"])
    assert created.status_code == 201
    body = created.get_json()
    assert (body["review_expiry_hours"], body["max_points"]) == (48, 5)
    assert [c["criterion"] for c in body["rubric"]] == ["Specific", "Kind"]
    assert body["rubric"][1]["description"] == "Warm in tone."
    assert all(isinstance(c["id"], int) and all(isinstance(lv["id"], int)
                                                for lv in c["levels"])
               for c in body["rubric"])
    one = f"{path}/{body['id']}"
    changed = call(client, "PUT", one, headers=tokens["owner"], json={
        **ASSIGNMENT, "rubric": ASSIGNMENT["rubric"][:1], "review_expiry_hours": 12})
    assert changed.status_code == 200
    assert [c["criterion"] for c in changed.get_json()["rubric"]] == ["Specific"]
    assert call(client, "DELETE", one, headers=tokens["owner"]).status_code == 204
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Assignment)) == 0
        assert session.scalar(select(func.count()).select_from(Rubric)) == 0


def test_bad_input_is_a_422_naming_each_field(call, client, authoring, tokens):
    path = f"/api/v1/modules/{authoring.module_id}/assignments"
    response = call(client, "POST", path, headers=tokens["owner"], json={
        **ASSIGNMENT, "reviews_required": 11, "rubric": [
            {"criterion": "", "levels": [{"label": "A", "points": 0},
                                         {"label": "B", "points": -1}]},
            {"criterion": "Lonely", "levels": [{"label": "Only", "points": 1}]}]})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"reviews_required", "rubric.0.criterion",
                           "rubric.0.levels.1.points", "rubric.1.levels"}
    missing = call(client, "POST", path, headers=tokens["owner"], json={"title": "x"})
    assert {"rubric", "reviews_required", "submit_days", "review_days"} <= set(
        missing.get_json()["error"]["fields"])


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_another_owners_module_is_not_found(call, client, authoring, tokens, role):
    path = f"/api/v1/modules/{authoring.module_id}/assignments"
    assignment = call(client, "POST", path, json=ASSIGNMENT, headers=tokens["owner"]).get_json()
    hidden = call(client, "POST", path, json=ASSIGNMENT, headers=tokens[role])
    missing = call(client, "POST", "/api/v1/modules/987654/assignments", json=ASSIGNMENT,
                   headers=tokens[role])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    one = f"{path}/{assignment['id']}"
    assert call(client, "PUT", one, json=ASSIGNMENT, headers=tokens[role]).status_code == 404
    assert call(client, "DELETE", one, headers=tokens[role]).status_code == 404


def test_anonymous_callers_get_401_and_owners_without_rights_403(call, client, db, authoring,
                                                                 tokens):
    path = f"/api/v1/modules/{authoring.module_id}/assignments"
    assert call(client, "POST", path, json=ASSIGNMENT).status_code == 401
    with db() as session:
        owner = session.get(type(authoring.people["owner"]), authoring.people["owner"].id)
        owner.can_own_programs = False
    assert call(client, "POST", path, json=ASSIGNMENT,
                headers=tokens["owner"]).status_code == 403
