"""The inbox: listing, unread counts and marking read (service, API, page, live)."""

from datetime import UTC, datetime

from sqlalchemy import select

from app.accounts import tokens
from app.notifications import services
from app.notifications.models import Notification
from tests.factories import create_user

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def give(session, user, n: int) -> list[Notification]:
    """Put n unread notifications in a person's inbox."""
    rows = [Notification(user_id=user.id, kind="module_released", title=f"Module {i} open",
                         link="/", dedupe_key=f"test:{i}", created_at=NOW) for i in range(n)]
    session.add_all(rows)
    session.flush()
    return rows


def test_marking_read_touches_only_my_own_notifications(app, db):
    with db() as session:
        me, other = create_user(session), create_user(session)
        mine, theirs = give(session, me, 3), give(session, other, 2)
    with app.app_context():
        assert services.unread_count(me) == 3
        assert services.mark_read(me, ids=[mine[0].id, theirs[0].id], now=NOW) == 2
        assert services.unread_count(other) == 2
        assert services.mark_read(me, ids=None, now=NOW) == 0
    with db() as session:
        unread = session.scalars(select(Notification).where(Notification.read_at.is_(None)))
        assert {n.user_id for n in unread} == {other.id}


def test_the_api_lists_newest_first_with_a_cursor_and_marks_read(app, db, client):
    with db() as session:
        me, other = create_user(session), create_user(session)
        rows = give(session, me, 5)
        give(session, other, 1)
        _, secret = tokens.issue_api_token(me, name="t", now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {secret}"}
    first = client.get("/api/v1/notifications?limit=3", headers=headers).get_json()
    assert [n["id"] for n in first["items"]] == [r.id for r in reversed(rows)][:3]
    rest = client.get(f"/api/v1/notifications?limit=3&cursor={first['next_cursor']}",
                      headers=headers).get_json()
    assert [n["id"] for n in rest["items"]] == [rows[1].id, rows[0].id]
    assert rest["next_cursor"] is None
    response = client.post("/api/v1/notifications/read", json={"ids": [rows[4].id]},
                           headers=headers)
    assert response.status_code == 200 and response.get_json() == {"unread": 4}
    assert client.post("/api/v1/notifications/read", json={"ids": "all"},
                       headers=headers).status_code == 422
    assert client.post("/api/v1/notifications/read", json={},
                       headers=headers).get_json() == {"unread": 0}


def test_the_header_shows_the_unread_count_and_the_inbox_marks_all_read(app, db, client,
                                                                          login):
    with db() as session:
        me = create_user(session)
        give(session, me, 2)
    login(client, me)
    page = client.get("/").get_data(as_text=True)
    assert 'data-unread-count="2"' in page
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "Module 0 open" in inbox and "Module 1 open" in inbox
    response = client.post_form("/notifications/read", {}, token_from="/notifications")
    assert response.status_code == 302
    assert 'data-unread-count="0"' in client.get("/").get_data(as_text=True)


def test_marking_read_updates_the_badge_live(app, db, client, login, socket_client):
    with db() as session:
        me = create_user(session)
        give(session, me, 2)
    login(client, me)
    live = socket_client()
    live.get_received()
    with app.app_context():
        services.mark_read(me, ids=None, now=NOW)
    events = [e for e in live.get_received() if e["name"] == "notification"]
    assert events and events[-1]["args"][0] == {"kind": "read", "unread": 0}


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/notifications").status_code == 401


def test_mark_read_follows_only_links_on_this_site(app, db, client, login):
    with db() as session:
        me = create_user(session)
        row = give(session, me, 1)[0]
    login(client, me)
    for target in ("//evil.example", "/\\evil.example", "https://evil.example/"):
        response = client.post_form("/notifications/read", {"id": row.id, "next": target},
                                    token_from="/notifications")
        assert response.headers["Location"] == "/notifications"
    response = client.post_form("/notifications/read", {"id": row.id, "next": "/cohorts/1"},
                                token_from="/notifications")
    assert response.headers["Location"] == "/cohorts/1"
