"""Password reset: no account enumeration, single use, expiry, every session ends."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import services, tokens
from app.accounts.models import AccountLink, LoginSession
from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Invalid, NotFound
from tests.factories import PASSWORD, create_user

NEW_PASSWORD = "a fresh passphrase now"
RESET_FLASH = "If an account exists for that e-mail, a reset link is on its way."


def _secret(path: str) -> str:
    """The secret at the end of a /reset/ path."""
    return path.rsplit("/", 1)[1]


def _ask(client, email):
    """Ask for a reset link through the page."""
    return client.post_form("/reset", {"email": email})


def _choose(client, path, password=NEW_PASSWORD, confirm=None):
    """Submit a new password on a reset page."""
    return client.post_form(path, {"password": password,
                                   "confirm": password if confirm is None else confirm})


# --- service ---------------------------------------------------------------------------------

def test_request_password_reset_mails_a_link_to_an_existing_account(app, db, outbox,
                                                                    link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email.upper(), now=now)
    [message] = outbox()
    assert message.to_address == user.email
    assert message.subject == "Reset your Cohort Commons password"
    assert "120 minutes" in message.body_text
    path = link_for(user.email)
    assert path.startswith("/reset/")
    with db() as session:
        link = session.scalars(select(AccountLink)).one()
        assert (link.purpose, link.user_id) == ("reset", user.id)
        assert link.expires_at == now + app.config["PASSWORD_RESET_TTL"]
        assert link.token_hash == services.hash_secret(_secret(path))


@pytest.mark.parametrize("email", ["nobody@example.com", "not an e-mail", ""])
def test_request_password_reset_for_no_account_is_silent(app, db, outbox, email):
    with db():
        assert services.request_password_reset(email, now=utcnow()) is None
    assert outbox() == []


def test_a_disabled_account_gets_no_reset_link(app, db, outbox):
    with db() as session:
        user = create_user(session, is_disabled=True)
        services.request_password_reset(user.email, now=utcnow())
    assert outbox() == []


def test_an_invited_person_asking_for_a_reset_gets_a_fresh_invitation(app, db, outbox,
                                                                      link_for):
    now = utcnow()
    with db():
        services.invite_user(None, "invited@example.com", now=now)
    first = link_for("invited@example.com")
    with db():
        services.request_password_reset("invited@example.com", now=now + timedelta(minutes=1))
    messages = outbox("invited@example.com")
    assert [m.subject for m in messages] == ["You are invited to Cohort Commons"] * 2
    second = link_for("invited@example.com")
    assert second.startswith("/invite/") and second != first
    later = now + timedelta(minutes=2)
    with db():
        assert services.get_usable_link(_secret(second), "invite", later)
        with pytest.raises(NotFound):
            services.get_usable_link(_secret(first), "invite", later)


def test_reset_password_sets_the_password_and_ends_every_session(app, db, link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        keys = [services.start_login_session(user, user_agent="", now=now,
                                             lifetime=timedelta(hours=1)).session_key
                for _ in range(2)]
        services.request_password_reset(user.email, now=now)
    secret = _secret(link_for(user.email))
    with db():
        services.reset_password(secret, password=NEW_PASSWORD, now=now)
    with db() as session:
        assert all(services.load_session_user(key, now) is None for key in keys)
        assert services.authenticate(user.email, NEW_PASSWORD).id == user.id
        with pytest.raises(Invalid):
            services.authenticate(user.email, PASSWORD)
        assert session.scalars(select(AccountLink)).one().used_at == now
        assert session.scalars(select(AuditEntry.action)).all() == ["user.password_reset"]


def test_a_reset_link_works_once(app, db, link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email, now=now)
    secret = _secret(link_for(user.email))
    with db():
        services.reset_password(secret, password=NEW_PASSWORD, now=now)
    with db(), pytest.raises(NotFound):
        services.reset_password(secret, password="an attacker's choice", now=now)
    with db():
        assert services.authenticate(user.email, NEW_PASSWORD).id == user.id


def test_an_expired_reset_link_is_refused(app, db, link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email, now=now)
    secret = _secret(link_for(user.email))
    too_late = now + app.config["PASSWORD_RESET_TTL"] + timedelta(seconds=1)
    with db(), pytest.raises(NotFound):
        services.reset_password(secret, password=NEW_PASSWORD, now=too_late)
    with db():
        assert services.authenticate(user.email, PASSWORD).id == user.id


def test_a_new_reset_request_retires_the_previous_link(app, db, link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email, now=now)
    first = _secret(link_for(user.email))
    with db():
        services.request_password_reset(user.email, now=now + timedelta(minutes=1))
    with db(), pytest.raises(NotFound):
        services.reset_password(first, password=NEW_PASSWORD, now=now + timedelta(minutes=2))


def test_reset_password_applies_the_password_rules(app, db, link_for):
    now = utcnow()
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email, now=now)
    secret = _secret(link_for(user.email))
    with db(), pytest.raises(Invalid) as caught:
        services.reset_password(secret, password="letmein1", now=now)
    assert set(caught.value.fields) == {"password"}
    with db():
        assert services.get_usable_link(secret, "reset", now)


# --- pages -----------------------------------------------------------------------------------

def test_the_answer_is_the_same_whether_or_not_the_account_exists(app, db, client, outbox):
    with db() as session:
        user = create_user(session)
    known = _ask(client, user.email)
    unknown = _ask(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    assert [m.to_address for m in outbox()] == [user.email]


def test_the_flash_message_is_the_same_for_both(app, db, client, new_client):
    with db() as session:
        user = create_user(session)
    pages = []
    for email in (user.email, "nobody@example.com"):
        browser = new_client()
        _ask(browser, email)
        page = browser.get("/login").get_data(as_text=True)
        assert RESET_FLASH in page
        pages.append(page.split('<section class="flashes"', 1)[1].split("</section>", 1)[0])
    assert pages[0] == pages[1]


def test_resetting_through_the_pages_signs_out_everywhere(app, db, client, new_client, login,
                                                          link_for):
    with db() as session:
        user = create_user(session)
    laptop = new_client()
    login(laptop, user, remember=True)
    remember_cookie = laptop.get_cookie("cc_remember").value
    _ask(client, user.email)
    path = link_for(user.email)
    assert client.get(path).status_code == 200
    response = _choose(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert laptop.get("/settings").status_code == 302
    thief = new_client()
    thief.set_cookie("cc_remember", remember_cookie)
    assert thief.get("/settings").status_code == 302
    login(new_client(), user, password=NEW_PASSWORD)
    with db() as session:
        rows = session.scalars(select(LoginSession).order_by(LoginSession.id)).all()
        assert [row.revoked_at is None for row in rows] == [False, True]


def test_a_reset_revokes_every_api_token(app, db, client, link_for):
    with db() as session:
        user = create_user(session)
        _, secret = tokens.issue_api_token(user, name="script", now=utcnow())
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    _ask(client, user.email)
    assert _choose(client, link_for(user.email)).status_code == 302
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    with db() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "user.password_reset")).one()
        assert entry.details["tokens_revoked"] == 1


def test_a_used_reset_page_is_not_found(app, db, client, link_for):
    with db() as session:
        user = create_user(session)
    _ask(client, user.email)
    path = link_for(user.email)
    assert _choose(client, path).status_code == 302
    assert client.get(path).status_code == 404
    response = client.post(path, data={"csrf_token": client.csrf_token("/login"),
                                       "password": "a second new one", "confirm":
                                       "a second new one"})
    assert response.status_code == 404
    with db():
        assert services.authenticate(user.email, NEW_PASSWORD)


def test_an_expired_reset_page_is_not_found(app, db, client, link_for):
    past = utcnow() - app.config["PASSWORD_RESET_TTL"] - timedelta(minutes=1)
    with db() as session:
        user = create_user(session)
        services.request_password_reset(user.email, now=past)
    assert client.get(link_for(user.email)).status_code == 404


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", None, "Use at least 8 characters."),
    (NEW_PASSWORD, "something else", "The two passwords differ."),
    ("qwerty123", None, "too common"),
])
def test_reset_form_errors_keep_the_link(app, db, client, link_for, password, confirm,
                                         message):
    with db() as session:
        user = create_user(session)
    _ask(client, user.email)
    path = link_for(user.email)
    response = _choose(client, path, password, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _choose(client, path).status_code == 302


def test_an_invited_person_resetting_through_the_page_gets_an_invitation(app, db, client,
                                                                         outbox, link_for):
    with db() as session:
        create_user(session, email="invited@example.com", password=None)
    assert _ask(client, "invited@example.com").status_code == 302
    assert link_for("invited@example.com").startswith("/invite/")
