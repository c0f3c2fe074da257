"""An invitation followed from the admin's form to the new person's first sign-in."""

import re
import sqlite3
import uuid
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def invitation_link(live_server, email: str) -> str:
    """The invitation link from the newest e-mail to ``email`` in the live outbox."""
    database = live_server.database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute(
            "SELECT body_text FROM outbox_emails WHERE to_address = ? ORDER BY id DESC LIMIT 1",
            (email,),
        ).fetchone()
    assert row is not None, f"no e-mail to {email} in the outbox"
    match = re.search(re.escape(live_server.url) + r"/invite/[A-Za-z0-9_-]+", row[0])
    assert match, f"no invitation link in the e-mail:\n{row[0]}"
    return match.group(0)


def test_invited_person_creates_an_account_and_signs_in_again(new_page, sign_in, live_server):
    email = f"newcomer-{uuid.uuid4().hex[:8]}@example.test"
    name = "Nadia Newcomer"
    password = "a walk in the autumn park"

    admin = new_page()
    sign_in(admin, "admin@demo.test")
    assert_accessible(admin)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    expect(admin).to_have_url(f"{live_server.url}/admin/users")
    assert_accessible(admin)
    invite_form = admin.get_by_role("region", name="Invite someone")
    invite_form.get_by_label("E-mail").fill(email)
    invite_form.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_role("status")).to_have_text(f"Invitation sent to {email}.")
    expect(admin.get_by_role("row").filter(has_text=email)).to_contain_text("invited")
    assert_accessible(admin)

    link = invitation_link(live_server, email)
    newcomer = new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome to Cohort Commons")
    expect(newcomer.get_by_text(f"You were invited as {email}")).to_be_visible()
    assert_accessible(newcomer)
    newcomer.get_by_label("Your name").fill(name)
    newcomer.get_by_label("New password", exact=True).fill(password)
    newcomer.get_by_label("Repeat the new password").fill(password)
    newcomer.get_by_role("button", name="Create my account").click()

    expect(newcomer).to_have_url(f"{live_server.url}/")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    expect(newcomer.get_by_role("status")).to_contain_text("Your account is ready")
    assert_accessible(newcomer)

    response = newcomer.goto(link)
    assert response.status == 404
    expect(newcomer.get_by_text("This link has expired or was already used")).to_be_visible()
    assert_accessible(newcomer)

    newcomer.get_by_role("button", name="Sign out").click()
    expect(newcomer).to_have_url(f"{live_server.url}/login")
    sign_in(newcomer, email, password)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    assert_accessible(newcomer)
