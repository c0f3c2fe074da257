"""Live sockets: who may connect and join, events after commit only, and closing (RT-1..RT-5)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app, realtime
from app.accounts import tokens
from app.accounts.models import LoginSession, User
from app.config import ConfigError
from app.db import transaction, utcnow
from app.extensions import socketio
from tests.conftest import test_config as make_test_config
from tests.factories import PASSWORD, create_user
from tests.worlds import two_cohorts

NOT_FOUND = {"ok": False, "error": "not_found"}


@dataclass
class World:
    """Two cohorts of one program, their people, and an outsider."""

    owner: User
    learner: User
    facilitator: User
    other_learner: User
    outsider: User
    cohort_id: int
    other_cohort_id: int


@pytest.fixture
def world(db) -> World:
    """A program owner, a cohort with a learner and facilitator, another cohort, an outsider."""
    with db() as session:
        world = two_cohorts(session)
        people = world.people
        return World(people["owner_a"], people["learner_a"], people["facilitator_a"],
                     people["learner_b"], people["outsider"], world.cohort_a.id,
                     world.cohort_b.id)


@pytest.fixture
def connect_as(new_client, login, socket_client):
    """``connect_as(user, remember=False)``: a new browser signs in and opens a socket."""
    def connect(user, remember=False):
        browser = new_client()
        login(browser, user, remember=remember)
        sc = socket_client(flask_client=browser)
        assert sc.is_connected()
        return browser, sc
    return connect


def _join(sc, room):
    """Ask to join a room; return the server's answer."""
    return sc.emit("join", {"room": room}, callback=True)


def _notify(app, room, payload=None):
    """Queue a live event in a transaction that commits."""
    with app.app_context(), transaction():
        realtime.notify("post_created", payload or {"id": 1}, room)


def _events(sc):
    """The names and first arguments of the events a socket received."""
    return [(event["name"], event["args"][0]) for event in sc.get_received()]


# --- connecting ---------------------------------------------------------------------------------

def test_anonymous_sockets_are_refused(app, socket_client):
    assert not socket_client().is_connected()


def test_a_signed_in_browser_connects_with_its_cookie(app, db, client, login, socket_client):
    with db() as session:
        user = create_user(session)
    login(client, user)
    sc = socket_client()
    assert sc.is_connected()
    participants = {sid for sid, _ in socketio.server.manager.get_participants(
        "/", f"user:{user.id}")}
    assert len(participants) == 1


def test_a_revoked_session_cookie_cannot_connect(app, db, client, login, socket_client):
    with db() as session:
        user = create_user(session)
    login(client, user)
    with db() as session:
        session.scalars(select(LoginSession)).one().revoked_at = utcnow()
    assert not socket_client().is_connected()


def test_an_api_token_connects(app, db, socket_client):
    with db() as session:
        user = create_user(session)
        token, secret = tokens.issue_api_token(user, name="", now=utcnow())
    sc = socket_client(auth={"token": secret}, flask_client=None)
    assert sc.is_connected()
    rooms = socketio.server.manager.get_participants("/", f"token:{token.id}")
    assert len(list(rooms)) == 1


def test_bad_tokens_are_refused(app, socket_client):
    for auth in ({"token": "cc_not-a-real-token"}, {"token": ""}, {"token": 12345},
                 {"token": None}, {"other": "x"}, "cc_token-as-a-string", ["cc_x"]):
        assert not socket_client(auth=auth, flask_client=None).is_connected(), auth


def test_revoked_and_expired_tokens_are_refused(app, db, socket_client):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        revoked, revoked_secret = tokens.issue_api_token(user, name="", now=now)
        expired, expired_secret = tokens.issue_api_token(user, name="", now=now)
    with db() as session:
        tokens.revoke_api_token(user, revoked.id, now=now)
        session.get(type(expired), expired.id).expires_at = now - timedelta(seconds=1)
    for secret in (revoked_secret, expired_secret):
        assert not socket_client(auth={"token": secret}, flask_client=None).is_connected()


# --- joining rooms ------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["learner", "facilitator", "owner"])
def test_members_and_the_owner_join_the_cohort_room(app, world, connect_as, who):
    _, sc = connect_as(getattr(world, who))
    room = f"cohort:{world.cohort_id}"
    assert _join(sc, room) == {"ok": True, "room": room}
    _notify(app, room, {"id": 7})
    assert _events(sc) == [("post_created", {"id": 7})]


@pytest.mark.parametrize("who", ["outsider", "other_learner"])
def test_others_cannot_join_the_cohort_room(app, world, connect_as, who):
    _, sc = connect_as(getattr(world, who))
    room = f"cohort:{world.cohort_id}"
    assert _join(sc, room) == NOT_FOUND
    _notify(app, room)
    assert _events(sc) == []


def test_an_unknown_cohort_looks_like_a_forbidden_one(app, world, connect_as):
    _, sc = connect_as(world.learner)
    assert _join(sc, f"cohort:{world.other_cohort_id}") == NOT_FOUND
    for unknown in ("cohort:999999", "cohort:2147483648", "cohort:999999999999"):
        assert _join(sc, unknown) == NOT_FOUND
    assert sc.is_connected()


GARBAGE_JOINS = [
    {"room": "user:1"}, {"room": "session:1"}, {"room": "token:1"}, {"room": "staff:1"},
    {"room": "cohort"}, {"room": "cohort:"}, {"room": "cohort:-1"}, {"room": "cohort:1:2"},
    {"room": "cohort: 1"}, {"room": "cohort:1e3"}, {"room": "cohort:²"},
    {"room": "cohort:١"}, {"room": "cohort:" + "9" * 13}, {"room": ""}, {"room": None},
    {"room": 1}, {"room": ["cohort:1"]}, {"room": {"kind": "cohort"}}, {}, "cohort:1", None,
    ["cohort:1"], 42,
]


def test_garbage_and_unknown_room_kinds_are_refused(app, world, connect_as):
    _, sc = connect_as(world.learner)
    for data in GARBAGE_JOINS:
        assert sc.emit("join", data, callback=True) == NOT_FOUND, data
        assert sc.is_connected(), data


def test_a_user_cannot_listen_to_another_users_room(app, world, connect_as):
    _, sc = connect_as(world.outsider)
    assert _join(sc, f"user:{world.learner.id}") == NOT_FOUND
    _notify(app, f"user:{world.learner.id}", {"secret": True})
    assert _events(sc) == []


def test_token_sockets_join_like_browsers(app, world, db, socket_client):
    with db():
        _, secret = tokens.issue_api_token(world.learner, name="", now=utcnow())
    sc = socket_client(auth={"token": secret}, flask_client=None)
    assert _join(sc, f"cohort:{world.cohort_id}")["ok"] is True
    assert _join(sc, f"cohort:{world.other_cohort_id}") == NOT_FOUND


def test_leave_stops_the_events(app, world, connect_as):
    _, sc = connect_as(world.learner)
    room = f"cohort:{world.cohort_id}"
    _join(sc, room)
    assert sc.emit("leave", {"room": room}, callback=True) == {"ok": True}
    _notify(app, room)
    assert _events(sc) == []


def test_leave_with_garbage_is_harmless(app, world, connect_as):
    _, sc = connect_as(world.learner)
    for data in (None, {"room": 5}, {"room": f"user:{world.learner.id}"}, "x"):
        assert sc.emit("leave", data, callback=True) == {"ok": True}
    _notify(app, f"user:{world.learner.id}", {"still": "here"})
    assert _events(sc) == [("post_created", {"still": "here"})]


# --- events follow the transaction (DATA-7) -----------------------------------------------------

def test_events_are_sent_only_after_the_commit(app, world, connect_as):
    _, sc = connect_as(world.learner)
    room = f"cohort:{world.cohort_id}"
    _join(sc, room)
    with app.app_context():
        with transaction():
            realtime.notify("post_created", {"id": 1}, room)
            with transaction():
                realtime.notify("post_created", {"id": 2}, room)
            assert sc.queue == []
        assert _events(sc) == [("post_created", {"id": 1}), ("post_created", {"id": 2})]


def test_events_of_a_failed_transaction_are_dropped(app, world, connect_as):
    _, sc = connect_as(world.learner)
    room = f"cohort:{world.cohort_id}"
    _join(sc, room)
    with app.app_context():
        with pytest.raises(RuntimeError), transaction():
            realtime.notify("post_created", {"id": 1}, room)
            raise RuntimeError("the action failed")
        _notify(app, room, {"id": 2})
    assert _events(sc) == [("post_created", {"id": 2})]


def test_events_are_dropped_when_the_commit_itself_fails(app, world, connect_as):
    from sqlalchemy.exc import IntegrityError

    _, sc = connect_as(world.learner)
    room = f"cohort:{world.cohort_id}"
    _join(sc, room)
    with app.app_context():
        with pytest.raises(IntegrityError), transaction() as session:
            realtime.notify("post_created", {"id": 1}, room)
            session.add(User(email=world.learner.email, name="Duplicate"))
        with transaction():
            pass
    assert _events(sc) == []


def test_a_rolled_back_savepoint_drops_only_its_own_events(app, world, connect_as):
    from sqlalchemy.exc import IntegrityError

    _, sc = connect_as(world.learner)
    room = f"user:{world.learner.id}"
    with app.app_context(), transaction() as session:
        realtime.notify("post_created", {"id": 1}, room)
        with pytest.raises(IntegrityError), session.begin_nested():
            realtime.notify("post_created", {"id": 2}, room)
            session.add(User(email=world.learner.email, name="Duplicate"))
            session.flush()
        with session.begin_nested():
            realtime.notify("post_created", {"id": 3}, room)
        assert sc.queue == []
    assert _events(sc) == [("post_created", {"id": 1}), ("post_created", {"id": 3})]


def test_events_go_only_to_their_room(app, world, connect_as):
    _, member = connect_as(world.learner)
    _, other = connect_as(world.other_learner)
    _join(member, f"cohort:{world.cohort_id}")
    _join(other, f"cohort:{world.other_cohort_id}")
    _notify(app, f"cohort:{world.cohort_id}", {"for": "first"})
    assert _events(member) == [("post_created", {"for": "first"})]
    assert _events(other) == []


# --- sockets close when the credentials end (RT-2, AUTH-6) --------------------------------------

def test_sign_out_closes_only_that_browsers_socket(app, world, connect_as):
    phone, phone_socket = connect_as(world.learner)
    _, laptop_socket = connect_as(world.learner)
    room = f"cohort:{world.cohort_id}"
    assert _join(phone_socket, room)["ok"] and _join(laptop_socket, room)["ok"]
    assert phone.post_form("/logout", {}, token_from="/").status_code == 302
    assert not phone_socket.is_connected()
    assert laptop_socket.is_connected()
    _notify(app, room, {"id": 9})
    assert phone_socket.queue == []
    assert _events(laptop_socket) == [("post_created", {"id": 9})]


def test_password_change_closes_every_socket_of_the_person(app, world, connect_as):
    browser, own_socket = connect_as(world.learner)
    _, other_socket = connect_as(world.learner)
    _, bystander = connect_as(world.facilitator)
    response = browser.post_form("/settings", {
        "password-current_password": PASSWORD, "password-new_password": "a new passphrase",
        "password-confirm": "a new passphrase", "password-submit": "Change password"})
    assert response.status_code == 302
    assert not own_socket.is_connected() and not other_socket.is_connected()
    assert bystander.is_connected()


def test_a_password_reset_closes_every_socket_of_the_person(app, world, db, connect_as,
                                                            new_client, link_for):
    _, sc = connect_as(world.learner)
    stranger = new_client()
    stranger.post_form("/reset", {"email": world.learner.email})
    response = stranger.post_form(link_for(world.learner.email), {
        "password": "a new passphrase", "confirm": "a new passphrase"})
    assert response.status_code == 302
    assert not sc.is_connected()


def test_disabling_an_account_closes_its_sockets(app, world, db, client, login, connect_as):
    with db() as session:
        admin = create_user(session, is_admin=True)
    _, sc = connect_as(world.learner)
    login(client, admin)
    response = client.post_form(f"/admin/users/{world.learner.id}/roles", {"is_disabled": "y"},
                                token_from="/admin/users")
    assert response.status_code == 302
    assert not sc.is_connected()


def test_revoking_a_token_closes_its_sockets(app, world, db, client, socket_client,
                                             connect_as):
    with db():
        token, secret = tokens.issue_api_token(world.learner, name="", now=utcnow())
    token_socket = socket_client(auth={"token": secret}, flask_client=None)
    _, browser_socket = connect_as(world.learner)
    response = client.delete(f"/api/v1/tokens/{token.id}",
                             headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 204
    assert not token_socket.is_connected()
    assert browser_socket.is_connected()


def test_each_event_rechecks_the_login_session(app, world, db, connect_as):
    _, sc = connect_as(world.learner)
    with db() as session:
        for row in session.scalars(select(LoginSession)):
            row.revoked_at = utcnow()
    assert sc.emit("join", {"room": f"cohort:{world.cohort_id}"}, callback=True) == \
        {"ok": False, "error": "not_signed_in"}


def test_each_event_rechecks_the_token(app, world, db, socket_client):
    now = utcnow()
    with db():
        token, secret = tokens.issue_api_token(world.learner, name="", now=now)
    sc = socket_client(auth={"token": secret}, flask_client=None)
    with db() as session:
        session.get(type(token), token.id).revoked_at = now
    assert _join(sc, f"cohort:{world.cohort_id}") == {"ok": False, "error": "not_signed_in"}


# --- origins (RT-5) ------------------------------------------------------------------------------

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def test_a_foreign_origin_handshake_is_refused(app, client):
    response = client.get(HANDSHAKE, headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    assert b"Not an accepted origin" in response.data


@pytest.mark.parametrize("origin", ["http://localhost.evil.example", "null",
                                    "https://localhost", "http://localhost:5000"])
def test_near_miss_origins_are_refused(app, client, origin):
    assert client.get(HANDSHAKE, headers={"Origin": origin}).status_code == 400


def test_the_sites_own_origin_handshake_is_accepted(app, client):
    response = client.get(HANDSHAKE, headers={"Origin": "http://localhost"})
    assert response.status_code == 200
    assert b'"sid"' in response.data


def test_the_default_is_same_origin_only(app):
    assert socketio.server.eio.cors_allowed_origins is None


@pytest.mark.parametrize("origins", ["*", ["*"], [], (), ["https://a.example", "*"]])
def test_origin_settings_that_switch_the_check_off_are_refused(origins):
    with pytest.raises(ConfigError, match="SOCKETIO_ALLOWED_ORIGINS"):
        create_app(make_test_config(SOCKETIO_ALLOWED_ORIGINS=origins))


class TestListedOrigins:
    """A deployment may name the origins its pages are served from."""

    @pytest.fixture
    def config_overrides(self):
        return {"SOCKETIO_ALLOWED_ORIGINS": "https://learn.example.org"}

    def test_only_the_listed_origins_are_accepted(self, app, client):
        ok = client.get(HANDSHAKE, headers={"Origin": "https://learn.example.org"})
        assert ok.status_code == 200
        assert client.get(HANDSHAKE, headers={"Origin": "https://evil.example"}).status_code \
            == 400
