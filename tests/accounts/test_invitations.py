"""Invitations: a placeholder account, a single-use expiring link, and accepting it."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.accounts import services
from app.accounts.models import AccountLink, LoginSession, User
from app.audit import AuditEntry
from app.db import utcnow
from app.errors import Invalid, NotFound
from app.mail import OutboxEmail
from tests.factories import PASSWORD, create_user

NEW_PASSWORD = "my own fine passphrase"


def _secret(path: str) -> str:
    """The secret at the end of an /invite/ or /reset/ path."""
    return path.rsplit("/", 1)[1]


def _accept_form(client, path, **values):
    """Submit the invitation form."""
    data = {"name": "Ines Invited", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    data.update(values)
    return client.post_form(path, data)


# --- service ---------------------------------------------------------------------------------

def test_invite_user_creates_a_placeholder_a_link_and_an_email(app, db, link_for):
    now = utcnow()
    with db() as session:
        admin = create_user(session, is_admin=True, name="Ada Admin")
        user, sent = services.invite_user(admin, " New.Person@Example.com ", now=now,
                                          context="You were added to Cohort Spring.")
    assert sent
    with db() as session:
        saved = session.get(User, user.id)
        assert saved.email == "new.person@example.com"
        assert saved.password_hash is None and not saved.has_password
        link = session.scalars(select(AccountLink)).one()
        assert (link.user_id, link.purpose, link.created_by_id) == (user.id, "invite", admin.id)
        assert link.expires_at == now + app.config["INVITE_TTL"]
        message = session.scalars(select(OutboxEmail)).one()
        assert message.to_address == "new.person@example.com"
        assert message.user_id == user.id
        assert "Ada Admin has invited you" in message.body_text
        assert "You were added to Cohort Spring." in message.body_text
        assert session.scalars(select(AuditEntry.action)).all() == ["user.invited"]
    path = link_for("new.person@example.com")
    assert path.startswith("/invite/")
    assert link.token_hash == services.hash_secret(_secret(path))
    assert _secret(path) not in link.token_hash


def test_inviting_an_account_with_a_password_sends_nothing(app, db, outbox):
    with db() as session:
        existing = create_user(session)
        user, sent = services.invite_user(None, existing.email.upper(), now=utcnow())
    assert (user.id, sent) == (existing.id, False)
    assert outbox() == []
    with db() as session:
        assert session.scalar(select(func.count()).select_from(AccountLink)) == 0


def test_a_disabled_account_is_not_invited(app, db, outbox):
    with db() as session:
        disabled = create_user(session, password=None, is_disabled=True)
    with db():
        user, sent = services.invite_user(None, disabled.email, now=utcnow())
    assert (user.id, sent) == (disabled.id, False)
    assert outbox() == []


def test_inviting_again_retires_the_older_link(app, db, link_for):
    now = utcnow()
    with db():
        services.invite_user(None, "twice@example.com", now=now)
    first = _secret(link_for("twice@example.com"))
    with db():
        services.invite_user(None, "twice@example.com", now=now + timedelta(minutes=1))
    second = _secret(link_for("twice@example.com"))
    later = now + timedelta(minutes=2)
    with db() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        with pytest.raises(NotFound):
            services.get_usable_link(first, "invite", later)
        assert services.get_usable_link(second, "invite", later).user.email == \
            "twice@example.com"


def test_invite_user_refuses_a_bad_email(app, db, outbox):
    with db(), pytest.raises(Invalid) as caught:
        services.invite_user(None, "not an e-mail", now=utcnow())
    assert set(caught.value.fields) == {"email"}
    assert outbox() == []


def test_accept_invitation_sets_name_and_password_once(app, db, link_for):
    now = utcnow()
    with db():
        services.invite_user(None, "ines@example.com", now=now)
    secret = _secret(link_for("ines@example.com"))
    with db():
        user = services.accept_invitation(secret, name=" Ines ", password=NEW_PASSWORD, now=now)
        assert (user.name, user.has_password) == ("Ines", True)
    with db() as session:
        assert services.authenticate("ines@example.com", NEW_PASSWORD).id == user.id
        assert session.scalars(select(AccountLink)).one().used_at == now
        with pytest.raises(NotFound) as caught:
            services.accept_invitation(secret, name="Mallory", password="another passphrase",
                                       now=now)
        assert caught.value.code == "link_invalid"
    with db() as session:
        assert session.get(User, user.id).name == "Ines"


def test_a_link_used_by_a_concurrent_request_is_refused(app, db, link_for):
    now = utcnow()
    with db():
        services.invite_user(None, "race@example.com", now=now)
    secret = _secret(link_for("race@example.com"))
    with db() as session:
        link = services.get_usable_link(secret, "invite", now)
        # Another request accepts between this one's check and its write.
        session.execute(update(AccountLink).where(AccountLink.id == link.id)
                        .values(used_at=now).execution_options(synchronize_session=False))
        assert link.used_at is None
        with pytest.raises(NotFound):
            services.accept_invitation(secret, name="Second", password=NEW_PASSWORD, now=now)
    with db():
        assert not services.get_user_by_email("race@example.com").has_password


def test_an_expired_invitation_is_refused(app, db, link_for):
    now = utcnow()
    with db():
        services.invite_user(None, "late@example.com", now=now)
    secret = _secret(link_for("late@example.com"))
    too_late = now + app.config["INVITE_TTL"] + timedelta(seconds=1)
    with db(), pytest.raises(NotFound):
        services.accept_invitation(secret, name="Late", password=NEW_PASSWORD, now=too_late)
    with db():
        assert services.get_usable_link(secret, "invite",
                                        now + app.config["INVITE_TTL"] - timedelta(seconds=1))
        assert not services.get_user_by_email("late@example.com").has_password


def test_an_invitation_is_not_a_reset_link(app, db, link_for):
    with db():
        services.invite_user(None, "kind@example.com", now=utcnow())
    secret = _secret(link_for("kind@example.com"))
    with db(), pytest.raises(NotFound):
        services.reset_password(secret, password=NEW_PASSWORD, now=utcnow())


@pytest.mark.parametrize(("name", "password", "fields"), [
    ("", NEW_PASSWORD, {"name"}),
    ("Ines", "short", {"password"}),
    ("Ines", "12345678", {"password"}),
    ("", "short", {"name", "password"}),
])
def test_accept_invitation_validates_and_keeps_the_link(app, db, link_for, name, password,
                                                         fields):
    now = utcnow()
    with db():
        services.invite_user(None, "ines@example.com", now=now)
    secret = _secret(link_for("ines@example.com"))
    with db(), pytest.raises(Invalid) as caught:
        services.accept_invitation(secret, name=name, password=password, now=now)
    assert set(caught.value.fields) == fields
    with db():
        assert services.get_usable_link(secret, "invite", now).used_at is None


def test_a_disabled_accounts_invitation_does_not_work(app, db, link_for):
    now = utcnow()
    with db():
        user, _ = services.invite_user(None, "gone@example.com", now=now)
    with db() as session:
        session.get(User, user.id).is_disabled = True
    with db(), pytest.raises(NotFound):
        services.get_usable_link(_secret(link_for("gone@example.com")), "invite", now)


# --- pages -----------------------------------------------------------------------------------

def test_admin_invites_from_the_users_page(app, db, client, login, link_for):
    with db() as session:
        admin = create_user(session, is_admin=True)
    login(client, admin)
    response = client.post_form("/admin/users", {"invite-email": "guest@example.com",
                                                 "invite-submit": "Send invitation"})
    assert response.status_code == 302
    assert "Invitation sent to guest@example.com" in client.get("/admin/users").get_data(
        as_text=True)
    assert link_for("guest@example.com").startswith("/invite/")


def test_accepting_an_invitation_signs_in(app, db, client, link_for):
    with db():
        services.invite_user(None, "ines@example.com", now=utcnow())
    path = link_for("ines@example.com")
    page = client.get(path)
    assert page.status_code == 200
    assert "ines@example.com" in page.get_data(as_text=True)
    response = _accept_form(client, path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    settings = client.get("/settings")
    assert settings.status_code == 200
    assert "ines@example.com" in settings.get_data(as_text=True)
    with db() as session:
        user = session.scalar(select(User).where(User.email == "ines@example.com"))
        assert user.name == "Ines Invited" and user.has_password
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 1


def test_an_invitation_link_works_once(app, db, client, new_client, link_for):
    with db():
        services.invite_user(None, "ines@example.com", now=utcnow())
    path = link_for("ines@example.com")
    assert _accept_form(client, path).status_code == 302
    other = new_client()
    assert other.get(path).status_code == 404
    response = other.post(path, data={"name": "Mallory", "password": "mallory's passphrase",
                                      "confirm": "mallory's passphrase",
                                      "csrf_token": other.csrf_token("/login")})
    assert response.status_code == 404
    with db() as session:
        assert session.scalar(select(User.name).where(User.email == "ines@example.com")) == \
            "Ines Invited"


def test_an_expired_invitation_page_is_not_found(app, db, client, link_for):
    past = utcnow() - app.config["INVITE_TTL"] - timedelta(minutes=1)
    with db():
        services.invite_user(None, "late@example.com", now=past)
    response = client.get(link_for("late@example.com"))
    assert response.status_code == 404
    assert "expired or was already used" in response.get_data(as_text=True)


def test_an_unknown_invitation_is_not_found(app, client):
    assert client.get("/invite/not-a-real-token").status_code == 404


@pytest.mark.parametrize(("values", "field_error"), [
    ({"password": "short", "confirm": "short"}, "Use at least 8 characters."),
    ({"name": ""}, "This field is required."),
    ({"confirm": "something else entirely"}, "The two passwords differ."),
    ({"password": "password1", "confirm": "password1"}, "too common"),
])
def test_invitation_form_errors_keep_the_link_usable(app, db, client, link_for, values,
                                                      field_error):
    with db():
        services.invite_user(None, "ines@example.com", now=utcnow())
    path = link_for("ines@example.com")
    response = _accept_form(client, path, **values)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'class="field-error"' in body and field_error in body
    assert 'aria-invalid="true"' in body
    assert client.get("/settings").status_code == 302
    assert _accept_form(client, path).status_code == 302
    with db() as session:
        assert session.scalar(select(User.name).where(User.email == "ines@example.com")) == \
            "Ines Invited"


def test_invitation_email_link_uses_the_base_url(app, db, outbox):
    with db():
        services.invite_user(None, "ines@example.com", now=utcnow())
    assert "http://localhost/invite/" in outbox()[0].body_text


def test_password_of_an_accepted_invitation_is_the_only_one(app, db, client, new_client,
                                                             link_for):
    with db():
        services.invite_user(None, "ines@example.com", now=utcnow())
    _accept_form(client, link_for("ines@example.com"))
    wrong = new_client().post_form("/login", {"email": "ines@example.com",
                                              "password": PASSWORD})
    assert wrong.status_code == 401
