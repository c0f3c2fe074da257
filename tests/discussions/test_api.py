"""POST/PUT/DELETE /api/v1/modules/{id}/prompts: the owner's prompts through the API."""

import pytest
from sqlalchemy import select

from app.discussions.models import Prompt
from tests.discussions.conftest import NOT_OWNERS

PROMPT = {"title": "What did you notice?", "body": "One **meeting**.",
          "anonymity_allowed": False, "min_replies": 1,
          "stages": {"respond_after_days": 1, "synthesize_after_days": 3,
                     "close_after_days": 5}}


def test_the_owner_adds_changes_and_deletes_a_prompt(call, client, db, authoring, tokens):
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    created = call(client, "POST", path, json=PROMPT, headers=tokens["owner"])
    assert created.status_code == 201
    body = created.get_json()
    assert body["module_id"] == authoring.module_id and body["position"] == 0
    assert body["stages"] == PROMPT["stages"] and body["anonymity_allowed"] is False
    defaults = call(client, "POST", path, json={"title": "Short"}, headers=tokens["owner"])
    assert defaults.get_json()["stages"] == {"respond_after_days": 2,
                                             "synthesize_after_days": 5,
                                             "close_after_days": 7}
    one = f"{path}/{body['id']}"
    changed = call(client, "PUT", one, json={**PROMPT, "title": "Renamed"},
                   headers=tokens["owner"])
    assert changed.status_code == 200 and changed.get_json()["title"] == "Renamed"
    assert call(client, "DELETE", one, headers=tokens["owner"]).status_code == 204
    with db() as session:
        assert [p.title for p in session.scalars(select(Prompt))] == ["Short"]


def test_bad_input_is_a_422_naming_each_field(call, client, authoring, tokens):
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    response = call(client, "POST", path, headers=tokens["owner"], json={
        **PROMPT, "title": "", "stages": {"respond_after_days": 4,
                                          "synthesize_after_days": 3,
                                          "close_after_days": 500}})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"title", "stages.close_after_days"}
    wrong_type = call(client, "POST", path, headers=tokens["owner"],
                      json={"title": "x", "min_replies": "2", "colour": "red"})
    assert set(wrong_type.get_json()["error"]["fields"]) == {"min_replies", "colour"}


@pytest.mark.parametrize("role", NOT_OWNERS)
def test_another_owners_module_is_not_found(call, client, authoring, tokens, role):
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    prompt = call(client, "POST", path, json=PROMPT, headers=tokens["owner"]).get_json()
    hidden = call(client, "POST", path, json=PROMPT, headers=tokens[role])
    missing = call(client, "POST", "/api/v1/modules/987654/prompts", json=PROMPT,
                   headers=tokens[role])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    one = f"{path}/{prompt['id']}"
    assert call(client, "PUT", one, json=PROMPT, headers=tokens[role]).status_code == 404
    assert call(client, "DELETE", one, headers=tokens[role]).status_code == 404


def test_a_prompt_under_another_module_is_not_found(call, client, db, authoring, tokens):
    from tests.factories import create_module, create_program

    with db() as session:
        other = create_module(session, create_program(session,
                                                      owner=authoring.people["owner"]))
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    prompt = call(client, "POST", path, json=PROMPT, headers=tokens["owner"]).get_json()
    response = call(client, "DELETE", f"/api/v1/modules/{other.id}/prompts/{prompt['id']}",
                    headers=tokens["owner"])
    assert response.status_code == 404


def test_anonymous_callers_get_401_and_owners_without_rights_403(call, client, db, authoring,
                                                                 tokens):
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    assert call(client, "POST", path, json=PROMPT).status_code == 401
    with db() as session:
        owner = session.get(type(authoring.people["owner"]), authoring.people["owner"].id)
        owner.can_own_programs = False
    response = call(client, "POST", path, json=PROMPT, headers=tokens["owner"])
    assert response.status_code == 403


def test_cookie_writes_need_the_csrf_header(call, client, login, authoring, api_headers):
    login(client, authoring.people["owner"])
    path = f"/api/v1/modules/{authoring.module_id}/prompts"
    assert call(client, "POST", path, json=PROMPT).status_code == 400
    assert call(client, "POST", path, json=PROMPT, headers=api_headers()).status_code == 201
