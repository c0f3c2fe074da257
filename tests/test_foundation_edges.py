"""Edges of the foundation: huge ids in URLs, deleting people, paging my tokens."""

from sqlalchemy import func, select

from app.accounts import services as accounts
from app.accounts import tokens
from app.accounts.models import User
from app.audit import AuditEntry
from app.db import utcnow
from tests.factories import create_user

HUGE = 2**31  # one past the largest INTEGER id


def test_an_id_beyond_the_integer_range_is_a_404_not_a_database_error(app, db, client, login):
    with db() as session:
        user = create_user(session)
        _, secret = tokens.issue_api_token(user, name="t", now=utcnow())
    bearer = {"Authorization": f"Bearer {secret}"}
    for path in (f"/api/v1/cohorts/{HUGE}", f"/api/v1/programs/{HUGE}"):
        response = client.get(path, headers=bearer)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    login(client, user)
    assert client.get(f"/cohorts/{HUGE}").status_code == 404


def test_a_person_with_audit_history_can_be_deleted_and_the_history_stays(app, db):
    with db() as session:
        admin = create_user(session, is_admin=True)
        accounts.set_site_roles(admin, create_user(session).id, can_own_programs=True,
                                now=utcnow())
        admin_id = admin.id
    with db() as session:
        session.delete(session.get(User, admin_id))
    with db() as session:
        entry = session.scalars(select(AuditEntry)
                                .where(AuditEntry.action == "user.site_roles_changed")).one()
        assert entry.actor_id == admin_id  # history is not rewritten


def test_my_tokens_are_paginated_with_a_cursor(app, db, client):
    with db() as session:
        user = create_user(session)
        for n in range(5):
            _, secret = tokens.issue_api_token(user, name=f"t{n}", now=utcnow())
        total = session.scalar(select(func.count()).select_from(User))
        assert total == 1
    bearer = {"Authorization": f"Bearer {secret}"}
    seen, cursor = [], None
    while True:
        url = "/api/v1/tokens?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer).get_json()
        seen += [item["name"] for item in page["items"]]
        assert all("token" not in item or item["token"] is None for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"t{n}" for n in range(5)]
