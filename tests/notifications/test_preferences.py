"""Notification preferences: per kind app / email / digest, and the digest hour (service,
API, settings page)."""

import pytest

from app.errors import Invalid
from app.notifications.models import KINDS
from app.notifications.preferences import (
    get_notification_preferences,
    set_notification_preferences,
)
from tests.factories import create_user
from tests.http import bearer, token_for

PATH = "/api/v1/me/notification-preferences"
#: Every kind with its default delivery: what someone who has chosen nothing gets.
DEFAULTS = {name: kind.default for name, kind in KINDS.items()}


def test_defaults_until_chosen_then_only_the_given_kinds_change(app, db):
    with db() as session:
        me, other = create_user(session), create_user(session)
    with app.app_context():
        assert get_notification_preferences(me).kinds == DEFAULTS
        assert get_notification_preferences(me).digest_hour == 8
        chosen = set_notification_preferences(me, kinds={"module_released": "digest"},
                                              digest_hour=6)
        assert chosen.kinds == {**DEFAULTS, "module_released": "digest"} and chosen.digest_hour == 6
        again = set_notification_preferences(me, kinds={}, digest_hour=None)
        assert again == chosen
        assert set_notification_preferences(me, kinds={"module_released": "app"}).kinds == {
            **DEFAULTS, "module_released": "app"}
        assert get_notification_preferences(other).kinds == DEFAULTS


@pytest.mark.parametrize(("kinds", "hour", "field"), [
    ({"no_such_kind": "email"}, None, "kinds.no_such_kind"),
    ({"module_released": "sms"}, None, "kinds.module_released"),
    ({}, 24, "digest_hour"),
    ({}, -1, "digest_hour"),
])
def test_unknown_kinds_deliveries_and_hours_are_refused(app, db, kinds, hour, field):
    with db() as session:
        me = create_user(session)
    with app.app_context():
        with pytest.raises(Invalid) as refused:
            set_notification_preferences(me, kinds=kinds, digest_hour=hour)
        assert field in refused.value.fields
        assert get_notification_preferences(me).kinds == DEFAULTS


def test_the_api_reads_and_changes_my_preferences(app, db, client, call):
    with db() as session:
        me = create_user(session)
        headers = bearer(token_for(session, me))
    got = call(client, "GET", PATH, headers=headers)
    assert got.status_code == 200
    assert got.get_json() == {"kinds": DEFAULTS, "digest_hour": 8}
    put = call(client, "PUT", PATH, headers=headers,
               json={"kinds": {"module_released": "digest"}, "digest_hour": 7})
    assert put.status_code == 200
    assert put.get_json() == {"kinds": {**DEFAULTS, "module_released": "digest"},
                              "digest_hour": 7}
    assert call(client, "GET", PATH, headers=headers).get_json()["digest_hour"] == 7


@pytest.mark.parametrize(("body", "field"), [
    ({"kinds": {"no_such_kind": "app"}}, "kinds.no_such_kind"),
    ({"kinds": {"module_released": "sms"}}, "kinds.module_released"),
    ({"digest_hour": 24}, "digest_hour"),
    ({"digest_hour": "8"}, "digest_hour"),
    ({"colour": "blue"}, "colour"),
])
def test_the_api_refuses_bad_preferences_with_field_errors(app, db, client, call, body, field):
    with db() as session:
        me = create_user(session)
        headers = bearer(token_for(session, me))
    response = call(client, "PUT", PATH, headers=headers, json=body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


def test_the_api_needs_a_signed_in_caller(client, call):
    assert call(client, "GET", PATH).status_code == 401
    assert call(client, "PUT", PATH, json={}).status_code == 401


def test_the_settings_page_works_without_javascript(app, db, client, login):
    with db() as session:
        me = create_user(session)
    login(client, me)
    assert "/settings/notifications" in client.get("/settings").get_data(as_text=True)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'name="kind-module_released" value="email" checked' in page
    # A browser sends every kind's checked radio button.
    every_kind = {f"kind-{name}": delivery for name, delivery in DEFAULTS.items()}
    saved = client.post_form("/settings/notifications",
                             {**every_kind, "kind-module_released": "digest",
                              "digest_hour": "21"},
                             token_from="/settings/notifications")
    assert saved.status_code == 302
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert 'value="digest" checked' in page and '<option value="21" selected>' in page
    refused = client.post_form("/settings/notifications",
                               {**every_kind, "kind-module_released": "sms",
                                "digest_hour": "99"},
                               token_from="/settings/notifications")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Choose app, email or digest." in text and "Choose an hour from 0 to 23." in text
    with app.app_context():
        assert get_notification_preferences(me).digest_hour == 21
