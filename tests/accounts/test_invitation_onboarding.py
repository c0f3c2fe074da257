"""Accepting an invitation: the name the inviter typed is there already, and the time zone
is asked for before any page shows a time (the cohort's zone, or UTC, until the person
picks theirs; the page's script offers the browser's zone)."""

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import AccountLink, User
from app.cohorts.roster import add_member
from app.db import utcnow
from app.errors import Invalid
from tests.factories import add_member as enrol
from tests.factories import create_cohort

NEW_PASSWORD = "a fresh passphrase"


@pytest.fixture
def invited(app, db, link_for):
    """Rosa, added to a Lisbon cohort by its facilitator, who typed her name."""
    with db() as session:
        cohort = create_cohort(session, timezone="Europe/Lisbon")
        facilitator = enrol(session, cohort, role="facilitator").user
    with app.app_context():
        add_member(facilitator, cohort.id, email="rosa@example.com", name="Rosa Mendes",
                   role="learner", now=utcnow())
    return link_for("rosa@example.com")


def _user(db, email):
    with db() as session:
        return session.scalar(select(User).where(User.email == email))


def test_the_page_is_prefilled_and_asks_for_the_zone(client, invited):
    page = client.get(invited).get_data(as_text=True)
    assert 'value="Rosa Mendes"' in page
    assert '<label for="timezone">Your time zone</label>' in page
    assert "data-browser-timezone" in page and "js/timezone.js" in page
    # The cohort's zone is chosen until the person (or their browser) picks another.
    assert '<option selected value="Europe/Lisbon">' in page
    # Common zones first, then every other one.
    assert page.index('label="Common time zones"') < page.index('label="Every time zone"')
    assert page.index("America/New_York") < page.index("Africa/Abidjan")


def test_accepting_saves_the_zone_on_the_user(client, db, invited):
    response = client.post_form(invited, {"name": "Rosa M.", "timezone": "Asia/Tokyo",
                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    user = _user(db, "rosa@example.com")
    assert (user.name, user.timezone, user.has_password) == ("Rosa M.", "Asia/Tokyo", True)


def test_an_unknown_zone_is_refused_and_nothing_is_used_up(client, db, invited):
    response = client.post_form(invited, {"name": "Rosa", "timezone": "Mars/Olympus",
                                          "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page
    assert "data-browser-timezone" not in page  # the script leaves a choice made alone
    assert not _user(db, "rosa@example.com").has_password
    with db() as session:
        assert session.scalars(select(AccountLink.used_at)).one() is None


def test_the_service_checks_the_zone_with_the_other_fields(app, db, invited):
    secret = invited.rsplit("/", 1)[1]
    with app.app_context(), pytest.raises(Invalid) as caught:
        services.accept_invitation(secret, name="", password=NEW_PASSWORD,
                                   timezone="Nowhere/Else", now=utcnow())
    assert set(caught.value.fields) == {"name", "timezone"}


def test_an_invitation_without_a_cohort_starts_in_utc(app, db, client, link_for):
    with app.app_context():
        services.invite_user(None, "solo@example.com", now=utcnow())
    page = client.get(link_for("solo@example.com")).get_data(as_text=True)
    assert '<option selected value="UTC">' in page
