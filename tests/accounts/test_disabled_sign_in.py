"""A disabled account: the right password learns that it is disabled and whom to contact;
a wrong one gets the answer everyone gets, so nobody can find out which accounts exist."""

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import ApiToken, LoginSession
from app.errors import Invalid, NotAllowed
from tests.factories import PASSWORD, create_user

SIGN_IN_ERROR = "That e-mail and password do not match an account"
DISABLED = "This account is disabled. To have it enabled again, contact help@example.org."


@pytest.fixture
def config_overrides() -> dict:
    """The site's admin contact."""
    return {"SUPPORT_EMAIL": "help@example.org"}


@pytest.fixture
def disabled(db):
    with db() as session:
        return create_user(session, is_disabled=True)


def test_the_service_names_the_contact_for_the_right_password_only(app, db, disabled):
    with app.app_context():
        with pytest.raises(NotAllowed) as right:
            services.authenticate(disabled.email, PASSWORD)
        with pytest.raises(Invalid) as wrong:
            services.authenticate(disabled.email, "not the password")
    assert right.value.code == "account_disabled" and right.value.message == DISABLED
    assert wrong.value.code == "sign_in_failed"
    assert wrong.value.message == services.SIGN_IN_ERROR


def test_without_a_contact_configured_it_says_to_ask_a_site_admin(app, db, disabled):
    app.config["SUPPORT_EMAIL"] = ""
    with app.app_context(), pytest.raises(NotAllowed) as right:
        services.authenticate(disabled.email, PASSWORD)
    assert "contact a site admin of Cohort Commons" in right.value.message


def test_the_sign_in_page_says_the_account_is_disabled(app, db, client, disabled):
    right = client.post_form("/login", {"email": disabled.email, "password": PASSWORD})
    assert right.status_code == 403
    page = right.get_data(as_text=True)
    assert DISABLED in page and SIGN_IN_ERROR not in page
    assert 'name="password"' in page  # still the sign-in form, not an error page
    wrong = client.post_form("/login", {"email": disabled.email, "password": "nope nope"})
    assert wrong.status_code == 401
    assert SIGN_IN_ERROR in wrong.get_data(as_text=True)
    assert "disabled" not in wrong.get_data(as_text=True)
    assert client.get("/settings").status_code == 302  # not signed in
    with db() as session:
        assert session.scalars(select(LoginSession)).all() == []


def test_the_token_endpoint_follows_the_same_rule(app, db, call, client, disabled):
    right = call(client, "POST", "/api/v1/tokens",
                 json={"email": disabled.email, "password": PASSWORD, "name": "script"})
    assert right.status_code == 403
    assert right.get_json()["error"] == {"code": "account_disabled", "message": DISABLED}
    wrong = call(client, "POST", "/api/v1/tokens",
                 json={"email": disabled.email, "password": "nope nope", "name": "script"})
    unknown = call(client, "POST", "/api/v1/tokens",
                   json={"email": "nobody@example.com", "password": "nope", "name": "script"})
    assert wrong.status_code == unknown.status_code
    assert wrong.get_json() == unknown.get_json()
    with db() as session:
        assert session.scalars(select(ApiToken)).all() == []
