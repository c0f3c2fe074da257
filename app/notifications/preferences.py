"""How notices reach each person: per kind in the app only, by e-mail at once, or in a
daily digest at a local hour of their choosing."""

from dataclasses import dataclass

from sqlalchemy import select

from app.accounts.models import User
from app.db import get_session, insert_for, transaction
from app.errors import Invalid
from app.notifications.models import (
    DEFAULT_DIGEST_HOUR,
    DELIVERIES,
    KINDS,
    DigestSetting,
    NotificationPreference,
)


@dataclass(frozen=True)
class Preferences:
    """A person's choices, defaults filled in: every kind's delivery and the digest hour."""

    kinds: dict[str, str]
    digest_hour: int


def get_notification_preferences(user: User) -> Preferences:
    """The person's delivery of every kind (the kind's default where they chose none)."""
    session = get_session()
    chosen = dict(session.execute(
        select(NotificationPreference.kind, NotificationPreference.delivery)
        .where(NotificationPreference.user_id == user.id)).all())
    hour = session.scalar(select(DigestSetting.hour).where(DigestSetting.user_id == user.id))
    return Preferences(
        kinds={kind: chosen.get(kind, spec.default) for kind, spec in KINDS.items()},
        digest_hour=DEFAULT_DIGEST_HOUR if hour is None else hour)


def check_preferences(kinds: dict[str, str], digest_hour: int | None) -> None:
    """Raise Invalid naming each unknown kind, unknown delivery or impossible hour."""
    fields = {}
    for kind, delivery in kinds.items():
        if kind not in KINDS:
            fields[f"kinds.{kind}"] = "There is no such kind of notification."
        elif delivery not in DELIVERIES:
            fields[f"kinds.{kind}"] = "Choose app, email or digest."
    if digest_hour is not None and not (isinstance(digest_hour, int)
                                        and 0 <= digest_hour <= 23):
        fields["digest_hour"] = "Choose an hour from 0 to 23."
    if fields:
        raise Invalid(fields=fields)


def set_notification_preferences(user: User, *, kinds: dict[str, str],
                                 digest_hour: int | None = None) -> Preferences:
    """Change the delivery of the given kinds and, when given, the digest hour.

    Kinds left out keep their setting. Choosing a kind's default stores it too, so a
    later change of the default does not change a choice the person made.
    """
    check_preferences(kinds, digest_hour)
    with transaction() as session:
        insert = insert_for(session)
        for kind, delivery in kinds.items():
            session.execute(
                insert(NotificationPreference)
                .values(user_id=user.id, kind=kind, delivery=delivery)
                .on_conflict_do_update(index_elements=["user_id", "kind"],
                                       set_={"delivery": delivery}))
        if digest_hour is not None:
            session.execute(
                insert(DigestSetting).values(user_id=user.id, hour=digest_hour)
                .on_conflict_do_update(index_elements=["user_id"], set_={"hour": digest_hour}))
    return get_notification_preferences(user)

