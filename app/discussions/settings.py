"""A cohort's safety settings: its anonymity policy, how many members' flags hide a post,
and whether peer feedback kept harsh after the kindness nudge waits for a facilitator (the
kindness hold). Changed by the cohort's staff; every change is audited.

A policy can always be made stronger. Made weaker, it applies to posts written from then
on: a post keeps the stronger of the policy it was written under and the cohort's current
one (``anonymity.shown_policy``), so nobody's earlier anonymous post is ever exposed.
"""

from dataclasses import dataclass
from datetime import datetime

from app import audit
from app.accounts.models import User
from app.cohorts.access import require_staff
from app.db import transaction
from app.discussions.anonymity import POLICIES
from app.errors import Invalid

MAX_FLAG_THRESHOLD = 50


@dataclass(frozen=True)
class DiscussionSettings:
    """What a cohort's staff see and change."""

    anonymity: str
    flag_threshold: int
    kindness_hold: bool
    #: Said after a change that leaves earlier posts under their stronger policy.
    note: str = ""


def get_discussion_settings(user: User, cohort_id: int) -> DiscussionSettings:
    """The cohort's settings, for its staff."""
    cohort = require_staff(user, cohort_id, "Only the cohort's staff see its settings.").cohort
    return DiscussionSettings(cohort.anonymity, cohort.flag_threshold, cohort.kindness_hold)


def change_discussion_settings(user: User, cohort_id: int, *, anonymity: str | None = None,
                               flag_threshold: int | None = None,
                               kindness_hold: bool | None = None,
                               now: datetime) -> DiscussionSettings:
    """Change the policy, the flag threshold and/or the kindness hold (None leaves one as
    it is)."""
    errors = {}
    if anonymity is not None and anonymity not in POLICIES:
        errors["anonymity"] = "Choose off, peers or everyone."
    if flag_threshold is not None and not (
            isinstance(flag_threshold, int) and 1 <= flag_threshold <= MAX_FLAG_THRESHOLD):
        errors["flag_threshold"] = f"Use a number of flags from 1 to {MAX_FLAG_THRESHOLD}."
    if kindness_hold is not None and not isinstance(kindness_hold, bool):
        errors["kindness_hold"] = "Say true or false."
    if errors:
        raise Invalid(fields=errors)
    with transaction() as session:
        cohort = require_staff(user, cohort_id, "Only the cohort's facilitators and its "
                                                "program's owner change its settings.").cohort
        note = ""
        if anonymity is not None and anonymity != cohort.anonymity:
            weaker = POLICIES.index(anonymity) < POLICIES.index(cohort.anonymity)
            audit.record(session, user.id, "cohort.anonymity_changed", cohort_id=cohort.id,
                         target_type="cohort", target_id=cohort.id,
                         before=cohort.anonymity, after=anonymity, at=now.isoformat())
            cohort.anonymity = anonymity
            if weaker:
                note = ("Posts already written keep the stronger policy they were written "
                        "under; the new one applies to posts from now on.")
        if flag_threshold is not None and flag_threshold != cohort.flag_threshold:
            audit.record(session, user.id, "cohort.flag_threshold_changed",
                         cohort_id=cohort.id, target_type="cohort", target_id=cohort.id,
                         before=cohort.flag_threshold, after=flag_threshold)
            cohort.flag_threshold = flag_threshold
        if kindness_hold is not None and kindness_hold != cohort.kindness_hold:
            audit.record(session, user.id, "cohort.kindness_hold_changed",
                         cohort_id=cohort.id, target_type="cohort", target_id=cohort.id,
                         before=cohort.kindness_hold, after=kindness_hold)
            cohort.kindness_hold = kindness_hold
        return DiscussionSettings(cohort.anonymity, cohort.flag_threshold,
                                  cohort.kindness_hold, note)
